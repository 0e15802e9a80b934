import { type AttentionDevice, assertUsable } from '../gpu/device.js';
import { AttentionSession, guarded } from '../gpu/session.js';
import { type AttentionInputs, validateInputs } from '../attention/dense/inputs.js';
import type { Tiles } from '../attention/legacy-types.js';
import { planRun } from './plan.js';
import type { ResolvedShape } from '../attention/dense/shape.js';

export interface RunOptions {
  /** Kernel name: 'naive' or 'flash' (see KERNELS). */
  kernel: string;
  /** Tile parameters; those not given take the kernel's default for this device and shape. */
  tiles?: Partial<Tiles>;
  /** Give up waiting for the GPU after this long (default 120 s). */
  timeoutMs?: number;
}

export interface RunResult {
  /** O, row-major [batch, heads, seqQ, headDim]. */
  output: Float32Array;
  kernel: string;
  tiles: Tiles;
  shape: ResolvedShape;
  /** Pipeline creation time, 0 when cached. */
  compileMs: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Runs one attention call on the GPU and returns its output. Everything is checked before any
 * dispatch (inputs, kernel, tiles, device limits); a bad request throws with the value and the
 * limit and leaves the device usable.
 */
export async function runAttention(gpu: AttentionDevice, inputs: AttentionInputs, options: RunOptions): Promise<RunResult> {
  assertUsable(gpu);
  const shape = validateInputs(inputs);
  const plan = planRun(gpu.caps, options.kernel, shape, options.tiles);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const prepared = await guarded(gpu, `building ${plan.kernel.name} pipelines`, () =>
    plan.kernel.prepare(gpu.device, plan.shape, plan.tiles, gpu.caps),
  );
  const session = await AttentionSession.create(gpu, plan.shape);
  try {
    session.upload(inputs);
    session.poisonOutput();
    const bound = await guarded(gpu, `running ${plan.kernel.name}`, () => {
      const kernel = prepared.bind(session.buffers);
      const encoder = gpu.device.createCommandEncoder({ label: plan.kernel.name });
      const pass = encoder.beginComputePass({ label: plan.kernel.name });
      kernel.encode(pass);
      pass.end();
      gpu.device.queue.submit([encoder.finish()]);
      return kernel;
    });
    try {
      const output = await session.readOutput(timeoutMs);
      return { output, kernel: plan.kernel.name, tiles: plan.tiles, shape: plan.shape, compileMs: prepared.compileMs };
    } finally {
      bound.destroy();
    }
  } finally {
    session.destroy();
  }
}
