import type { ElementType, HostTensor, HostTensors, TensorSpec } from '../attention/types.js';
import { AttentionInputError } from '../errors.js';
import { type AttentionDevice } from './device.js';
import { guarded } from './session.js';
import { withTimeout } from './timeout.js';

export const ELEMENT_BYTES: Record<ElementType, number> = { f32: 4, f16: 2, u32: 4, i32: 4 };

/** Bytes of a tensor's buffer: its elements, rounded up to 4 bytes (writeBuffer's granularity), at least 16. */
export function tensorBytes(spec: TensorSpec): number {
  const count = spec.dims.reduce((a, b) => a * b, 1);
  return Math.max(16, Math.ceil((count * ELEMENT_BYTES[spec.type]) / 4) * 4);
}

export function elementCount(spec: TensorSpec): number {
  return spec.dims.reduce((a, b) => a * b, 1);
}

function hostArray(type: ElementType, buffer: ArrayBuffer, count: number): HostTensor {
  switch (type) {
    case 'f32':
      return new Float32Array(buffer, 0, count);
    case 'f16':
      return new Uint16Array(buffer, 0, count);
    case 'u32':
      return new Uint32Array(buffer, 0, count);
    case 'i32':
      return new Int32Array(buffer, 0, count);
  }
}

/**
 * A problem's tensors on the GPU, one storage buffer per TensorSpec, with upload, poisoning of what
 * the kernel writes, and read-back. Kernels bind these by name.
 */
export class TensorSession {
  private readonly staging = new Map<string, GPUBuffer>();

  private constructor(
    private readonly gpu: AttentionDevice,
    readonly specs: readonly TensorSpec[],
    readonly buffers: Readonly<Record<string, GPUBuffer>>,
  ) {}

  static async create(gpu: AttentionDevice, specs: readonly TensorSpec[]): Promise<TensorSession> {
    const made: GPUBuffer[] = [];
    try {
      return await guarded(gpu, `allocating ${specs.map((s) => s.name).join(', ')}`, () => {
        const buffers: Record<string, GPUBuffer> = {};
        for (const spec of specs) {
          const readable = spec.role === 'output' || spec.role === 'state';
          const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | (readable ? GPUBufferUsage.COPY_SRC : 0);
          const buffer = gpu.device.createBuffer({ label: spec.name, size: tensorBytes(spec), usage });
          made.push(buffer);
          buffers[spec.name] = buffer;
        }
        return new TensorSession(gpu, specs, buffers);
      });
    } catch (error) {
      for (const b of made) b.destroy();
      throw error;
    }
  }

  /** Writes every input, index and state tensor. */
  upload(inputs: HostTensors): void {
    const { queue } = this.gpu.device;
    for (const spec of this.specs) {
      if (spec.role === 'output') continue;
      const data = inputs[spec.name];
      if (!data) throw new AttentionInputError(`missing input tensor ${spec.name} (${spec.layout})`);
      if (data.byteLength % 4 === 0) queue.writeBuffer(this.buffers[spec.name]!, 0, data);
      else {
        // An odd count of f16 values: writeBuffer wants whole 4-byte words.
        const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
        padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        queue.writeBuffer(this.buffers[spec.name]!, 0, padded);
      }
    }
  }

  /** Fills the outputs with NaN (all ones for integers) so that an element the kernel fails to write shows up in the check. */
  poisonOutputs(): void {
    for (const spec of this.specs) {
      if (spec.role !== 'output') continue;
      const bytes = tensorBytes(spec);
      const fill =
        spec.type === 'f32' ? new Float32Array(bytes / 4).fill(Number.NaN) : new Uint32Array(bytes / 4).fill(spec.type === 'f16' ? 0x7e007e00 : 0xffffffff);
      this.gpu.device.queue.writeBuffer(this.buffers[spec.name]!, 0, fill);
    }
  }

  /** Copies the output and state tensors back; rejects after timeoutMs rather than wait on a hung device. */
  async read(timeoutMs: number): Promise<Record<string, HostTensor>> {
    const { device } = this.gpu;
    const readable = this.specs.filter((s) => s.role === 'output' || s.role === 'state');
    await guarded(this.gpu, 'copying outputs for read-back', () => {
      const encoder = device.createCommandEncoder({ label: 'read outputs' });
      for (const spec of readable) {
        let staging = this.staging.get(spec.name);
        if (!staging) {
          staging = device.createBuffer({ label: `${spec.name} read-back`, size: tensorBytes(spec), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
          this.staging.set(spec.name, staging);
        }
        encoder.copyBufferToBuffer(this.buffers[spec.name]!, 0, staging, 0, staging.size);
      }
      device.queue.submit([encoder.finish()]);
    });
    const out: Record<string, HostTensor> = {};
    for (const spec of readable) {
      const staging = this.staging.get(spec.name)!;
      await withTimeout(staging.mapAsync(GPUMapMode.READ), timeoutMs, `reading ${spec.name} back from the GPU`);
      try {
        out[spec.name] = hostArray(spec.type, staging.getMappedRange().slice(0), elementCount(spec));
      } finally {
        staging.unmap();
      }
    }
    return out;
  }

  destroy(): void {
    for (const b of Object.values(this.buffers)) b.destroy();
    for (const b of this.staging.values()) b.destroy();
    this.staging.clear();
  }
}
