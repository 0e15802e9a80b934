import { GpuError } from '../errors.js';
import type { AttentionInputs } from '../attention/dense/inputs.js';
import type { AttentionBuffers } from '../attention/legacy-types.js';
import { type ResolvedShape, tensorSizes } from '../attention/dense/shape.js';
import { type AttentionDevice, assertUsable } from './device.js';
import { PARAMS_BYTES, encodeParams } from '../attention/dense/params.js';
import { withTimeout } from './timeout.js';

const SCOPES: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Runs `fn` inside validation, out-of-memory and internal error scopes and throws the first error
 * the GPU reports, so a failure surfaces at the call that caused it and the device stays usable.
 */
export async function guarded<T>(gpu: AttentionDevice, what: string, fn: () => T | Promise<T>): Promise<T> {
  assertUsable(gpu);
  const { device } = gpu;
  for (const filter of SCOPES) device.pushErrorScope(filter);
  let result: T | undefined;
  let thrown: unknown;
  try {
    result = await fn();
  } catch (error) {
    thrown = error;
  }
  const errors: GPUError[] = [];
  for (let i = 0; i < SCOPES.length; i++) {
    const error = await device.popErrorScope();
    if (error) errors.push(error);
  }
  if (thrown) throw thrown;
  if (errors.length > 0) {
    const kinds = errors.map((e) => `${e.constructor.name}: ${e.message}`).join('\n');
    throw new GpuError(`${what} failed on the GPU:\n${kinds}`);
  }
  assertUsable(gpu);
  return result as T;
}

/** The tensors of one shape on the GPU, with upload and read-back. */
export class AttentionSession {
  readonly buffers: AttentionBuffers;
  private readonly readback: GPUBuffer;
  private readonly all: GPUBuffer[];

  private constructor(
    private readonly gpu: AttentionDevice,
    readonly shape: ResolvedShape,
    buffers: AttentionBuffers,
    readback: GPUBuffer,
  ) {
    this.buffers = buffers;
    this.readback = readback;
    this.all = [buffers.params, buffers.q, buffers.k, buffers.v, buffers.o, readback];
  }

  static async create(gpu: AttentionDevice, shape: ResolvedShape): Promise<AttentionSession> {
    const sizes = tensorSizes(shape);
    const { device } = gpu;
    const made: GPUBuffer[] = [];
    const make = (label: string, size: number, usage: number) => {
      const buffer = device.createBuffer({ label, size: Math.max(16, size), usage });
      made.push(buffer);
      return buffer;
    };
    try {
      return await guarded(gpu, 'allocating the Q, K, V and O buffers', () => {
        const storageIn = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
        const buffers: AttentionBuffers = {
          params: make('params', PARAMS_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
          q: make('Q', sizes.q * 4, storageIn),
          k: make('K', sizes.k * 4, storageIn),
          v: make('V', sizes.v * 4, storageIn),
          o: make('O', sizes.o * 4, storageIn | GPUBufferUsage.COPY_SRC),
        };
        const readback = make('O readback', sizes.o * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
        device.queue.writeBuffer(buffers.params, 0, encodeParams(shape));
        return new AttentionSession(gpu, shape, buffers, readback);
      });
    } catch (error) {
      for (const b of made) b.destroy();
      throw error;
    }
  }

  upload(inputs: Pick<AttentionInputs, 'q' | 'k' | 'v'>): void {
    const { queue } = this.gpu.device;
    queue.writeBuffer(this.buffers.q, 0, inputs.q);
    queue.writeBuffer(this.buffers.k, 0, inputs.k);
    queue.writeBuffer(this.buffers.v, 0, inputs.v);
  }

  /** Fills O with NaN so that an element the kernel fails to write shows up in the check. */
  poisonOutput(): void {
    const nan = new Float32Array(tensorSizes(this.shape).o).fill(Number.NaN);
    this.gpu.device.queue.writeBuffer(this.buffers.o, 0, nan);
  }

  /** Copies O back to the CPU; rejects after timeoutMs rather than wait on a hung device. */
  async readOutput(timeoutMs: number): Promise<Float32Array> {
    const { device } = this.gpu;
    await guarded(this.gpu, 'copying O for read-back', () => {
      const encoder = device.createCommandEncoder({ label: 'read O' });
      encoder.copyBufferToBuffer(this.buffers.o, 0, this.readback, 0, this.readback.size);
      device.queue.submit([encoder.finish()]);
    });
    await withTimeout(this.readback.mapAsync(GPUMapMode.READ), timeoutMs, 'reading the output back from the GPU');
    try {
      return new Float32Array(this.readback.getMappedRange().slice(0, tensorSizes(this.shape).o * 4));
    } finally {
      this.readback.unmap();
    }
  }

  destroy(): void {
    for (const b of this.all) b.destroy();
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export { GpuError };
