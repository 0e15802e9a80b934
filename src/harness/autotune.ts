import { AttentionInputError } from '../errors.js';
import { benchmark } from './benchmark.js';
import { type ReferenceFn, ShapeFixture } from './fixture.js';
import type { AttentionDevice } from '../gpu/device.js';
import { searchSpace } from '../attention/common.js';
import { KERNELS, getKernel } from '../attention/registry.js';
import type { KernelDescriptor, RawShape, Tiles } from '../attention/types.js';
import type { ResultRecord } from '../results/schema.js';
import { createRng } from '../rng.js';

export interface AutotuneOptions {
  /** Kernels to tune (default: every kernel of the first one's family; all must share a family). */
  kernels?: string[];
  seed?: number;
  /** Timed samples per configuration while searching (default 3). */
  searchSamples?: number;
  /** Timed samples for the finalists, which are also checked against the reference (default 10). */
  finalSamples?: number;
  /** How many of the fastest configurations are re-measured and checked (default 3). */
  finalists?: number;
  /** Most configurations measured per kernel in the search (default 80). */
  maxConfigs?: number;
  /** Wall-clock budget of the search per kernel, in ms (default 25000); the finalists come after. */
  timeBudgetMs?: number;
  /** Minimum GPU work before each measurement, in ms (default 150; see BenchmarkConfig.warmupMs). */
  warmupMs?: number;
  /** Measure every configuration of the search space the device can run, ignoring maxConfigs and the time budget. */
  exhaustive?: boolean;
  fixture?: ShapeFixture;
  reference?: ReferenceFn;
  signal?: AbortSignal;
  onProgress?: (progress: { kernel: string; measured: number; runnable: number; record: ResultRecord }) => void;
}

export interface KernelTuning {
  kernel: string;
  /** Fastest configuration that passed the reference check; null when none did. */
  best: Tiles | null;
  bestRecord: ResultRecord | null;
  /** Every measurement of the search (with searchSamples, unchecked), fastest first. */
  table: ResultRecord[];
  /** Finalists re-measured with finalSamples and checked, fastest first. */
  finalists: ResultRecord[];
  /** Configurations the device can run (the kernel's search space pruned by its check). */
  runnable: number;
  measured: number;
  elapsedMs: number;
}

const key = (tiles: Tiles) => JSON.stringify(Object.entries(tiles).sort(([a], [b]) => a.localeCompare(b)));

/**
 * Searches each kernel's tile space for the fastest configuration on this device and shape.
 *
 * The space is the kernel's search space (src/kernels/*: the values measurements showed can
 * win), pruned by the kernel's own check (device limits, divisibility). Then: the
 * default and a spread of seeded random configurations are measured; from the three best the
 * search walks to neighbours (one tunable one step up or down) until the three best have no
 * untried neighbour; the finalists are re-measured with more samples and checked against the reference, and the
 * fastest correct one wins. Pipelines of each batch compile concurrently before they are timed.
 */
export async function autotune(gpu: AttentionDevice, shape: RawShape | object, options: AutotuneOptions = {}): Promise<KernelTuning[]> {
  const seed = options.seed ?? 1;
  const names = options.kernels ?? KERNELS.filter((k) => k.problem === KERNELS[0]!.problem).map((k) => k.name);
  const kernels = names.map(getKernel);
  const problem = kernels[0]?.problem;
  if (!problem) return [];
  const stray = kernels.find((k) => k.problem !== problem);
  if (stray) throw new AttentionInputError(`autotune: ${stray.name} computes ${stray.problem.family}, not ${problem.family}; tune one family at a time`);
  const fixture = options.fixture ?? (await ShapeFixture.create(gpu, problem, shape, seed));
  try {
    const out: KernelTuning[] = [];
    for (const kernel of kernels) out.push(await tuneKernel(gpu, kernel, fixture, options));
    return out;
  } finally {
    if (!options.fixture) fixture.destroy();
  }
}

async function tuneKernel(gpu: AttentionDevice, kernel: KernelDescriptor, fixture: ShapeFixture, options: AutotuneOptions): Promise<KernelTuning> {
  const start = performance.now();
  const shape = fixture.shape;
  const defaults = kernel.defaultTiles(shape, gpu.caps);
  const runnable = searchSpace(kernel, defaults).filter((t) => kernel.check(shape, t, gpu.caps).length === 0);
  const runnableKeys = new Map(runnable.map((t) => [key(t), t]));
  const measured = new Map<string, ResultRecord>();
  const maxConfigs = options.exhaustive ? Infinity : (options.maxConfigs ?? 80);
  const deadline = options.exhaustive ? Infinity : start + (options.timeBudgetMs ?? 25_000);
  const searchSamples = options.searchSamples ?? 3;
  const rng = createRng(options.seed ?? 1);

  const measure = async (batch: Tiles[]) => {
    const todo = batch.filter((t) => !measured.has(key(t))).slice(0, Math.max(0, maxConfigs - measured.size));
    // Compile the whole batch concurrently: the timed runs below then find their pipelines cached.
    await Promise.allSettled(todo.map((t) => kernel.prepare(gpu.device, shape, t, gpu.caps)));
    for (const tiles of todo) {
      if (performance.now() > deadline || measured.size >= maxConfigs) break;
      if (options.signal?.aborted) throw new DOMException('autotune cancelled', 'AbortError');
      const record = await benchmark(gpu, {
        kernel: kernel.name,
        shape,
        tiles,
        seed: fixture.seed,
        fixture,
        tag: 'autotune-search',
        check: false,
        warmup: 1,
        warmupMs: options.warmupMs,
        samples: searchSamples,
        budgetMs: 2000,
        signal: options.signal,
      });
      measured.set(key(tiles), record);
      options.onProgress?.({ kernel: kernel.name, measured: measured.size, runnable: runnable.length, record });
    }
  };
  const ranked = () => [...measured.values()].filter((r) => r.status === 'ok' && r.medianMs !== null).sort((a, b) => a.medianMs! - b.medianMs!);

  if (options.exhaustive || runnable.length <= maxConfigs) {
    await measure(runnable);
  } else {
    // Seeds: the default, then random configurations spread over the space.
    const seeds = [defaults];
    const pool = [...runnable];
    while (seeds.length < Math.min(12, Math.ceil(maxConfigs / 3)) && pool.length > 0) {
      seeds.push(pool.splice(Math.floor(rng() * pool.length), 1)[0]!);
    }
    await measure(seeds.filter((t) => runnableKeys.has(key(t))));
    // Walk: measure the untried neighbours of the best few until they are all measured (a local
    // optimum of the top three) or the budget runs out.
    for (;;) {
      const neighbours = ranked()
        .slice(0, 3)
        .flatMap((r) => neighboursOf(kernel, r.tiles))
        .filter((t) => runnableKeys.has(key(t)) && !measured.has(key(t)));
      if (neighbours.length === 0 || performance.now() > deadline || measured.size >= maxConfigs) break;
      await measure(neighbours);
    }
  }

  // Finalists: more samples and a reference check; a fast but wrong configuration never wins.
  const finalists: ResultRecord[] = [];
  for (const candidate of ranked().slice(0, options.finalists ?? 3)) {
    finalists.push(
      await benchmark(gpu, {
        kernel: kernel.name,
        shape,
        tiles: candidate.tiles,
        seed: fixture.seed,
        fixture,
        tag: 'autotune-final',
        samples: options.finalSamples ?? 10,
        warmupMs: options.warmupMs,
        reference: options.reference,
        signal: options.signal,
      }),
    );
  }
  finalists.sort((a, b) => (a.medianMs ?? Infinity) - (b.medianMs ?? Infinity));
  const winner = finalists.find((r) => r.status === 'ok' && r.check?.ok) ?? null;
  const table = [...measured.values()].sort((a, b) => (a.medianMs ?? Infinity) - (b.medianMs ?? Infinity));
  return {
    kernel: kernel.name,
    best: winner?.tiles ?? null,
    bestRecord: winner,
    table,
    finalists,
    runnable: runnable.length,
    measured: measured.size,
    elapsedMs: performance.now() - start,
  };
}

/** Configurations one step away: one tunable moved to the next value up or down its list. */
export function neighboursOf(kernel: KernelDescriptor, tiles: Tiles): Tiles[] {
  const out: Tiles[] = [];
  for (const t of kernel.tunables) {
    const i = t.values.indexOf(tiles[t.key]!);
    for (const j of [i - 1, i + 1]) {
      if (i >= 0 && j >= 0 && j < t.values.length) out.push({ ...tiles, [t.key]: t.values[j]! });
    }
  }
  return out;
}
