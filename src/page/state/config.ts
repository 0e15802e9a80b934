import { AttentionInputError, ConfigError, TileError } from '../../errors.js';
import type { DeviceCaps } from '../../gpu/caps.js';
import { resolveTiles } from '../../attention/common.js';
import { KERNELS, getKernel } from '../../attention/registry.js';
import type { KernelDescriptor, Tiles } from '../../attention/types.js';
import { planRun } from '../../harness/plan.js';
import { type ResolvedShape, resolveShape } from '../../attention/dense/shape.js';

/**
 * Everything the user chooses on the page; the URL and local storage hold exactly this.
 *
 * `tiles` holds only the kernels whose tiles the user pinned (by editing one, by Autotune or from a
 * shared URL). A kernel without an entry runs the kernel's own default for the device and shape,
 * which is what the command-line runner does too, so unpinned results stay comparable with it.
 */
export interface PageConfig {
  kernels: string[];
  batch: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Self-attention lengths (seqQ = seqK = N), ascending. */
  seqs: number[];
  causal: boolean;
  /** Timed samples per case. */
  samples: number;
  /** Autotune: most configurations measured per kernel. */
  tuneMaxConfigs: number;
  tiles: Record<string, Partial<Tiles>>;
}

export const DEFAULT_CONFIG: PageConfig = {
  // Kernels that run on any WebGPU device (naive and flash); variants that need a feature (the
  // f16 ones) are one tick away and say whether this device has it.
  kernels: KERNELS.filter((k) => k.requiredFeatures.length === 0).map((k) => k.name),
  batch: 1,
  heads: 8,
  kvHeads: 8,
  headDim: 64,
  seqs: [256, 512, 1024, 2048],
  causal: false,
  samples: 10,
  tuneMaxConfigs: 24,
  tiles: {},
};

/** Bounds of the numeric fields; the URL decoder and the form both enforce them. */
export const LIMITS = {
  batch: { min: 1, max: 64 },
  heads: { min: 1, max: 256 },
  kvHeads: { min: 1, max: 256 },
  headDim: { min: 1, max: 512 },
  seq: { min: 1, max: 1 << 20 },
  seqCount: 16,
  samples: { min: 1, max: 200 },
  tuneMaxConfigs: { min: 1, max: 1000 },
} as const;

/** Fixed input seed, the command-line runner's default, so page and CLI results share inputs. */
export const SEED = 1;

/**
 * Parses "256, 512, 1k" or a doubling range "64..4096" (mixable) into sorted distinct lengths.
 * Returns a message instead of values when any part is not a positive length.
 */
export function parseSeqList(text: string): { values: number[] } | { error: string } {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return { error: 'Give at least one sequence length, e.g. 256, 512, 1024 or 256..4096' };
  const out = new Set<number>();
  for (const part of parts) {
    const range = /^(\w+)\.\.(\w+)$/.exec(part);
    if (range) {
      const lo = parseLength(range[1]!);
      const hi = parseLength(range[2]!);
      if (lo === null || hi === null) return { error: `"${part}": a range is LOW..HIGH with positive lengths, e.g. 64..4096` };
      if (lo > hi) return { error: `"${part}": ${lo} is above ${hi}` };
      for (let n = lo; n <= hi; n *= 2) out.add(n);
    } else {
      const n = parseLength(part);
      if (n === null) return { error: `"${part}" is not a positive whole length (256, 4k and 64..4096 are)` };
      out.add(n);
    }
  }
  const values = [...out].sort((a, b) => a - b);
  if (values.length > LIMITS.seqCount) return { error: `${values.length} lengths: the page sweeps at most ${LIMITS.seqCount}` };
  const tooBig = values.find((n) => n > LIMITS.seq.max);
  if (tooBig !== undefined) return { error: `${tooBig} is above the page's limit of ${LIMITS.seq.max}` };
  return { values };
}

function parseLength(text: string): number | null {
  const m = /^(\d+)(k?)$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]) * (m[2] ? 1024 : 1);
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

export function formatSeqList(seqs: readonly number[]): string {
  return seqs.join(', ');
}

/** The shape of one sequence length; throws AttentionInputError naming the field when inconsistent. */
export function shapeAt(config: PageConfig, seq: number): ResolvedShape {
  return resolveShape({
    batch: config.batch,
    heads: config.heads,
    kvHeads: config.kvHeads,
    seqQ: seq,
    seqK: seq,
    headDim: config.headDim,
    causal: config.causal,
  });
}

/** Why the shape fields cannot make a shape (e.g. heads not divisible by KV heads), or null. */
export function shapeProblem(config: PageConfig): string | null {
  try {
    shapeAt(config, config.seqs[0] ?? 1);
    return null;
  } catch (error) {
    if (error instanceof AttentionInputError) return error.message;
    throw error;
  }
}

/** The shape the tile controls describe: the longest length, where limits bite first. */
export function referenceShape(config: PageConfig): ResolvedShape | null {
  if (shapeProblem(config)) return null;
  return shapeAt(config, Math.max(...config.seqs));
}

/** Tiles a case of this kernel runs with: the pinned ones over the device default for the shape. */
export function effectiveTiles(kernel: KernelDescriptor, config: PageConfig, caps: DeviceCaps, shape: ResolvedShape): Tiles {
  try {
    return resolveTiles(kernel, kernel.defaultTiles(shape, caps), config.tiles[kernel.name]);
  } catch (error) {
    // A pinned value the kernel no longer lists (an old shared URL): show the defaults instead.
    if (error instanceof TileError) return kernel.defaultTiles(shape, caps);
    throw error;
  }
}

/**
 * Why a kernel cannot run the configuration at each length, through the harness's own planRun so
 * the page refuses exactly what benchmark() would skip. Identical messages across lengths are
 * merged, with the lengths they apply to.
 */
export function kernelProblems(caps: DeviceCaps, kernelName: string, config: PageConfig): { message: string; limit: string; seqs: number[] }[] {
  if (shapeProblem(config)) return [];
  const merged = new Map<string, { message: string; limit: string; seqs: number[] }>();
  for (const seq of config.seqs) {
    for (const p of planProblems(caps, kernelName, shapeAt(config, seq), config.tiles[kernelName])) {
      const entry = merged.get(p.message) ?? { message: p.message, limit: p.limit, seqs: [] };
      entry.seqs.push(seq);
      merged.set(p.message, entry);
    }
  }
  return [...merged.values()];
}

/** Problems of one planned run: device limits, kernel rules, missing features, bad tile values. */
export function planProblems(caps: DeviceCaps, kernelName: string, shape: ResolvedShape, tiles: Partial<Tiles> | undefined): { message: string; limit: string }[] {
  try {
    planRun(caps, kernelName, shape, tiles);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => ({ message: `${kernelName}: ${p.message}`, limit: p.limit }));
    if (error instanceof TileError) return [{ message: error.message, limit: error.key }];
    throw error;
  }
}

/** Whether a tile value could run, the kernel's other tiles as they are: marks options in the selects. */
export function tileValueProblem(caps: DeviceCaps, kernelName: string, shape: ResolvedShape, tiles: Tiles, key: string, value: number): string | null {
  const kernel = getKernel(kernelName);
  const problems = kernel.check(shape, { ...tiles, [key]: value }, caps);
  return problems[0]?.message ?? null;
}

/** A copy with one kernel's tiles pinned to `tiles` (every tunable, so the display is what runs). */
export function pinTiles(config: PageConfig, kernelName: string, tiles: Tiles): PageConfig {
  return { ...config, tiles: { ...config.tiles, [kernelName]: { ...tiles } } };
}

export function unpinTiles(config: PageConfig, kernelName: string): PageConfig {
  const tiles = { ...config.tiles };
  delete tiles[kernelName];
  return { ...config, tiles };
}

/** Same kernels, shape and tiles: whether results of one still describe the other. */
export function sameShapeFamily(a: Pick<ResolvedShape, 'batch' | 'heads' | 'kvHeads' | 'headDim' | 'causal'>, b: Pick<ResolvedShape, 'batch' | 'heads' | 'kvHeads' | 'headDim' | 'causal'>): boolean {
  return a.batch === b.batch && a.heads === b.heads && a.kvHeads === b.kvHeads && a.headDim === b.headDim && a.causal === b.causal;
}
