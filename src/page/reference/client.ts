import type { Expected, HostTensor } from '../../attention/types.js';
import type { ReferenceFn } from '../../harness/fixture.js';
import type { ReferenceRequest, ReferenceResponse } from './protocol.js';

interface Pending {
  resolve: (expected: Expected) => void;
  reject: (error: Error) => void;
}

/**
 * The harness's ReferenceFn, computed in a Web Worker. Inputs go over as copies whose buffers are
 * transferred (the fixture keeps its own arrays for the GPU); the result comes back transferred
 * too, so neither direction clones large arrays on the main thread.
 */
export class WorkerReference {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** CPU time of the latest reference, for the status line. */
  lastMs: number | null = null;

  readonly reference: ReferenceFn = (problem, shape, inputs, budget) =>
    new Promise<Expected>((resolve, reject) => {
      const worker = this.ensureWorker();
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      const copies = Object.fromEntries(Object.entries(inputs).map(([name, data]) => [name, data.slice()])) as Record<string, HostTensor>;
      const request: ReferenceRequest = { id, family: problem.family, shape, inputs: copies, budget };
      worker.postMessage(
        request,
        Object.values(copies).map((d) => d.buffer as ArrayBuffer),
      );
    });

  dispose(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.failAll(new Error('the reference worker was stopped'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // Vite bundles the worker and its imports into their own module chunk (see vite.config.ts).
    const worker = new Worker(new URL('./reference.worker.ts', import.meta.url), { type: 'module', name: 'attention-reference' });
    worker.onmessage = (event: MessageEvent<ReferenceResponse>) => {
      const reply = event.data;
      const entry = this.pending.get(reply.id);
      if (!entry) return;
      this.pending.delete(reply.id);
      if ('error' in reply) entry.reject(new Error(`reference: ${reply.error}`));
      else {
        this.lastMs = reply.ms;
        entry.resolve(reply.expected);
      }
    };
    worker.onerror = (event) => {
      // A worker that failed to load or threw fails every waiting check loudly, then is rebuilt on next use.
      this.failAll(new Error(`the reference worker failed: ${event.message || 'it could not be loaded'}`));
      worker.terminate();
      this.worker = undefined;
    };
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
  }
}
