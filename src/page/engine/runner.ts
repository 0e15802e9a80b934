import { type KernelTuning, autotune } from '../../harness/autotune.js';
import { benchmark } from '../../harness/benchmark.js';
import type { ReferenceFn } from '../../harness/fixture.js';
import type { AttentionDevice } from '../../gpu/device.js';
import type { Tiles } from '../../attention/types.js';
import type { ResultRecord } from '../../results/schema.js';
import { getKernel } from '../../attention/registry.js';
import { SEED } from '../state/config.js';
import { PAGE_TAG } from '../state/results.js';
import type { FixtureCache } from './fixtures.js';

export interface Case {
  kernel: string;
  /** A resolved shape of the kernel's problem. */
  shape: object;
  /** Pinned tiles; undefined runs the kernel's default for the device and shape. */
  tiles: Partial<Tiles> | undefined;
}

export interface Progress {
  /** Cases (or tuned kernels) finished. */
  done: number;
  total: number;
  /** What is happening now, e.g. "flash B1 H8 N1024 d64: timing". */
  detail: string;
}

export interface RunContext {
  gpu: AttentionDevice;
  fixtures: FixtureCache;
  reference: ReferenceFn;
  signal: AbortSignal;
  onProgress: (progress: Progress) => void;
}

/**
 * Benchmarks each case through the harness, exactly as the command-line runner does, and hands
 * each record over as soon as it exists so the table fills in while a sweep runs. Cases come
 * grouped by shape, so every kernel of one shape shares its fixture (inputs and reference).
 */
export async function runCases(ctx: RunContext, cases: readonly Case[], samples: number, onRecord: (record: ResultRecord) => void): Promise<void> {
  for (const [i, c] of cases.entries()) {
    if (ctx.signal.aborted) throw new DOMException('run cancelled', 'AbortError');
    const problem = getKernel(c.kernel).problem;
    const name = `${c.kernel} ${problem.label(c.shape)}`;
    ctx.onProgress({ done: i, total: cases.length, detail: `${name}: preparing inputs` });
    const fixture = await ctx.fixtures.get(ctx.gpu, problem, c.shape, SEED);
    const record = await benchmark(ctx.gpu, {
      kernel: c.kernel,
      shape: c.shape,
      ...(c.tiles ? { tiles: c.tiles } : {}),
      samples,
      seed: SEED,
      fixture,
      reference: ctx.reference,
      signal: ctx.signal,
      tag: PAGE_TAG,
      onStage: (stage) => ctx.onProgress({ done: i, total: cases.length, detail: `${name}: ${STAGE_TEXT[stage]}` }),
    });
    // A record finished after Stop or a device change belongs to a job nobody waits for any more.
    if (ctx.signal.aborted) throw new DOMException('run cancelled', 'AbortError');
    onRecord(record);
    ctx.onProgress({ done: i + 1, total: cases.length, detail: `${name}: ${record.status}` });
  }
}

const STAGE_TEXT = {
  compile: 'compiling pipelines',
  check: 'checking against the CPU reference',
  warmup: 'warming up',
  time: 'timing',
} as const;

export interface TuneOptions {
  maxConfigs: number;
  finalSamples: number;
}

/**
 * Autotunes each kernel on one shape, one kernel at a time so progress can say which, handing over
 * each kernel's tuning as soon as it is done.
 */
export async function tuneKernels(
  ctx: RunContext,
  shape: object,
  kernels: readonly string[],
  options: TuneOptions,
  onTuning: (tuning: KernelTuning) => void,
): Promise<void> {
  const problem = getKernel(kernels[0]!).problem;
  const fixture = await ctx.fixtures.get(ctx.gpu, problem, shape, SEED);
  for (const [i, kernel] of kernels.entries()) {
    ctx.onProgress({ done: i, total: kernels.length, detail: `autotune ${kernel} on ${problem.label(shape)}: compiling the first configurations` });
    const [tuning] = await autotune(ctx.gpu, shape, {
      kernels: [kernel],
      seed: SEED,
      maxConfigs: options.maxConfigs,
      finalSamples: options.finalSamples,
      fixture,
      reference: ctx.reference,
      signal: ctx.signal,
      onProgress: ({ measured, runnable }) =>
        ctx.onProgress({
          done: i,
          total: kernels.length,
          detail: `autotune ${kernel}: measured ${measured} of at most ${Math.min(options.maxConfigs, runnable)} (${runnable} configurations fit this device)`,
        }),
    });
    if (ctx.signal.aborted) throw new DOMException('autotune cancelled', 'AbortError');
    if (tuning) onTuning(tuning);
    ctx.onProgress({ done: i + 1, total: kernels.length, detail: `autotune ${kernel}: done` });
  }
}
