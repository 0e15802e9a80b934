/// <reference lib="webworker" />
// The float64 CPU reference, off the main thread: checking a large shape takes long enough in
// JavaScript to freeze the page if it ran beside the UI.
import { getProblem } from '../../attention/registry.js';
import type { ReferenceRequest, ReferenceResponse } from './protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (event: MessageEvent<ReferenceRequest>) => {
  const { id, family, shape, inputs, budget } = event.data;
  const start = performance.now();
  let reply: ReferenceResponse;
  try {
    const expected = getProblem(family).reference(shape, inputs, budget);
    reply = { id, expected, ms: performance.now() - start };
    scope.postMessage(
      reply,
      Object.values(expected).map((e) => e.values.buffer as ArrayBuffer),
    );
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
    scope.postMessage(reply);
  }
};
