import type { AttentionInputs } from '../attention/dense/inputs.js';
import type { ResolvedShape } from '../attention/dense/shape.js';
import type { HostTensor, HostTensors, KernelDescriptor, RawShape, Tiles } from '../attention/types.js';
import { type AttentionDevice, assertUsable } from '../gpu/device.js';
import { guarded } from '../gpu/session.js';
import { TensorSession } from '../gpu/tensors.js';
import { planRun } from './plan.js';

export interface KernelRunOptions {
  /** Kernel name (see KERNELS) or descriptor. */
  kernel: string | KernelDescriptor;
  /** The problem's shape fields; defaults fill the rest. */
  shape: RawShape | object;
  /** Input, index and state tensors by name; absent: the problem's seeded inputs. */
  inputs?: HostTensors;
  seed?: number;
  /** Tile parameters; those not given take the kernel's default for this device and shape. */
  tiles?: Partial<Tiles>;
  /** Give up waiting for the GPU after this long (default 120 s). */
  timeoutMs?: number;
}

export interface KernelRunResult<S extends object = any> {
  /** Every output and state tensor, read back, by name. */
  outputs: Record<string, HostTensor>;
  /** The inputs the kernel ran on (the seeded ones when none were given). */
  inputs: HostTensors;
  kernel: string;
  tiles: Tiles;
  shape: S;
  /** Pipeline creation time, 0 when cached. */
  compileMs: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Runs one kernel once on the GPU and returns every tensor it writes. Everything is checked
 * before any dispatch (shape, inputs, indices, kernel, tiles, device limits); a bad request
 * throws with the value and the limit and leaves the device usable.
 */
export async function runKernel(gpu: AttentionDevice, options: KernelRunOptions): Promise<KernelRunResult> {
  assertUsable(gpu);
  const plan = planRun(gpu.caps, options.kernel, options.shape, options.tiles);
  const { kernel, shape, tiles } = plan;
  const problem = kernel.problem;
  const inputs = options.inputs ?? problem.inputs(shape, options.seed ?? 1);
  problem.validate(shape, inputs);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const prepared = await guarded(gpu, `building ${kernel.name} pipelines`, () => kernel.prepare(gpu.device, shape, tiles, gpu.caps));
  const session = await TensorSession.create(gpu, problem.tensors(shape));
  try {
    session.upload(inputs);
    session.poisonOutputs();
    const bound = await guarded(gpu, `running ${kernel.name}`, () => {
      const b = prepared.bind(session.buffers);
      const encoder = gpu.device.createCommandEncoder({ label: kernel.name });
      const pass = encoder.beginComputePass({ label: kernel.name });
      b.encode(pass);
      pass.end();
      gpu.device.queue.submit([encoder.finish()]);
      return b;
    });
    try {
      const outputs = await session.read(timeoutMs);
      return { outputs, inputs, kernel: kernel.name, tiles, shape, compileMs: prepared.compileMs };
    } finally {
      bound.destroy();
    }
  } finally {
    session.destroy();
  }
}

export interface RunOptions {
  /** Kernel name: a dense kernel ('naive', 'flash', …; see KERNELS). */
  kernel: string;
  tiles?: Partial<Tiles>;
  timeoutMs?: number;
}

export interface RunResult {
  /** O, row-major [batch, heads, seqQ, headDim]. */
  output: Float32Array;
  kernel: string;
  tiles: Tiles;
  shape: ResolvedShape;
  compileMs: number;
}

/** Dense attention on given Q, K and V: runKernel for the dense family, O as a Float32Array. */
export async function runAttention(gpu: AttentionDevice, inputs: AttentionInputs, options: RunOptions): Promise<RunResult> {
  const { q, k, v, ...shape } = inputs;
  const result = await runKernel(gpu, { kernel: options.kernel, shape, inputs: { q, k, v }, tiles: options.tiles, timeoutMs: options.timeoutMs });
  return { output: result.outputs.o as Float32Array, kernel: result.kernel, tiles: result.tiles, shape: result.shape, compileMs: result.compileMs };
}
