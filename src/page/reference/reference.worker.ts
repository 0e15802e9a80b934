/// <reference lib="webworker" />
// The float64 CPU reference, off the main thread: checking a large shape takes long enough in
// JavaScript to freeze the page if it ran beside the UI.
import { referenceAttention } from '../../attention/dense/reference.js';
import type { ReferenceRequest, ReferenceResponse } from './protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (event: MessageEvent<ReferenceRequest>) => {
  const { id, shape, q, k, v, rows } = event.data;
  const start = performance.now();
  let reply: ReferenceResponse;
  try {
    const values = referenceAttention({ ...shape, q, k, v }, rows);
    reply = { id, values, ms: performance.now() - start };
    scope.postMessage(reply, [values.buffer]);
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
    scope.postMessage(reply);
  }
};
