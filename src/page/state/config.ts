import { AttentionInputError, ConfigError, TileError } from '../../errors.js';
import type { DeviceCaps } from '../../gpu/caps.js';
import { resolveTiles } from '../../attention/common.js';
import { fieldDefaults } from '../../attention/fields.js';
import { FAMILIES, KERNELS, getKernel } from '../../attention/registry.js';
import type { KernelDescriptor, Problem, ShapeField, ShapeValue, Tiles } from '../../attention/types.js';
import { planRun } from '../../harness/plan.js';
import { MAX_SWEEP_VALUES, formatFieldList, parseFieldList } from '../../attention/field-text.js';
import type { ResultRecord } from '../../results/schema.js';
import { sameShape } from '../../results/match.js';

/**
 * Everything the user chooses on the page; the URL and local storage hold exactly this.
 *
 * The shape controls are the family's own fields (its problem's `fields`): `seqs` holds the values
 * of the swept field (the problem's `axis`, e.g. the sequence length) and `shape` one value of each
 * other field. A field that follows another by default (KV heads follow Heads, the query length
 * follows the sequence length) is absent from `shape` while it follows.
 *
 * `tiles` holds only the kernels whose tiles the user pinned (by editing one, by Autotune or from a
 * shared URL). A kernel without an entry runs the kernel's own default for the device and shape,
 * which is what the command-line runner does too, so unpinned results stay comparable with it.
 */
export interface PageConfig {
  family: string;
  kernels: string[];
  shape: Record<string, ShapeValue>;
  /** Values of the swept field, ascending. */
  seqs: number[];
  /** Timed samples per case. */
  samples: number;
  /** Autotune: most configurations measured per kernel. */
  tuneMaxConfigs: number;
  tiles: Record<string, Partial<Tiles>>;
}

/** Bounds of the page's own numeric fields (the shape's come from the family's fields). */
export const LIMITS = {
  seqCount: 16,
  samples: { min: 1, max: 200 },
  tuneMaxConfigs: { min: 1, max: 1000 },
} as const;

/** Fixed input seed, the command-line runner's default, so page and CLI results share inputs. */
export const SEED = 1;

export function problemOf(config: Pick<PageConfig, 'family'>): Problem<any> {
  return (FAMILIES.find((f) => f.problem.family === config.family) ?? FAMILIES[0]!).problem;
}

export function axisField(problem: Problem<any>): ShapeField {
  return problem.fields.find((f) => f.key === problem.axis)!;
}

/** The page's starting point for a family: its field defaults, four doublings of its axis, the kernels any device runs. */
export function defaultConfig(family: string): PageConfig {
  const problem = problemOf({ family });
  const shape: Record<string, ShapeValue> = {};
  for (const f of problem.fields) {
    if (f.key === problem.axis) continue;
    if (f.kind === 'int' && typeof f.default === 'object') continue;
    shape[f.key] = fieldDefaults([f], {})[f.key]!;
  }
  const axis = axisField(problem);
  const start = axis.kind === 'int' && typeof axis.default === 'number' ? axis.default : 256;
  const seqs = [1, 2, 4, 8].map((m) => start * m).filter((n) => axis.kind !== 'int' || n <= axis.max);
  return {
    family: problem.family,
    // Kernels that run on any WebGPU device; those that need a feature (f16, subgroup matrices)
    // are one tick away and say whether this device has it.
    kernels: kernelsOf(problem.family)
      .filter((k) => k.requiredFeatures.length === 0)
      .map((k) => k.name),
    shape,
    seqs,
    samples: 10,
    tuneMaxConfigs: 24,
    tiles: {},
  };
}

export const DEFAULT_CONFIG: PageConfig = defaultConfig('dense');

export function kernelsOf(family: string): KernelDescriptor[] {
  return KERNELS.filter((k) => k.problem.family === family);
}

/** Parses the swept field's text ("256, 512, 1k" or "256..4096"); at most LIMITS.seqCount values. */
export function parseSeqList(text: string, problem: Problem<any> = problemOf(DEFAULT_CONFIG)): { values: number[] } | { error: string } {
  const parsed = parseFieldList(axisField(problem), text);
  if ('error' in parsed) return parsed;
  const values = parsed.values as number[];
  if (values.length > LIMITS.seqCount) return { error: `${values.length} values: the page sweeps at most ${LIMITS.seqCount}` };
  return { values };
}

export function formatSeqList(seqs: readonly number[]): string {
  return seqs.join(', ');
}

/** The resolved shape at one value of the swept field; throws AttentionInputError naming the field when inconsistent. */
export function shapeAt(config: PageConfig, seq: number): any {
  const problem = problemOf(config);
  return problem.resolve({ ...config.shape, [problem.axis]: seq });
}

/** A label for the shape at one value of the swept field. */
export function shapeLabelAt(config: PageConfig, seq: number): string {
  return problemOf(config).label(shapeAt(config, seq));
}

/** Why the shape fields cannot make a shape (e.g. heads not divisible by KV heads), or null. */
export function shapeProblem(config: PageConfig): string | null {
  try {
    for (const seq of config.seqs.length > 0 ? config.seqs : [1]) shapeAt(config, seq);
    return null;
  } catch (error) {
    if (error instanceof AttentionInputError) return error.message;
    throw error;
  }
}

/** The shape the tile controls describe: the longest length, where limits bite first. */
export function referenceShape(config: PageConfig): any | null {
  if (shapeProblem(config)) return null;
  return shapeAt(config, Math.max(...config.seqs));
}

/** Whether a result describes the configured shape at some value of the swept field (its own). */
export function inConfiguredFamily(record: Pick<ResultRecord, 'family' | 'shape'>, config: PageConfig): boolean {
  if (record.family !== config.family) return false;
  const problem = problemOf(config);
  const seq = record.shape[problem.axis];
  if (typeof seq !== 'number') return false;
  try {
    return sameShape(record.shape, shapeAt(config, seq));
  } catch {
    return false;
  }
}

/** Tiles a case of this kernel runs with: the pinned ones over the device default for the shape. */
export function effectiveTiles(kernel: KernelDescriptor, config: PageConfig, caps: DeviceCaps, shape: object): Tiles {
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
export function planProblems(caps: DeviceCaps, kernelName: string, shape: object, tiles: Partial<Tiles> | undefined): { message: string; limit: string }[] {
  try {
    planRun(caps, kernelName, shape, tiles);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => ({ message: `${kernelName}: ${p.message}`, limit: p.limit }));
    if (error instanceof TileError) return [{ message: error.message, limit: error.key }];
    if (error instanceof AttentionInputError) return [{ message: error.message, limit: 'shape' }];
    throw error;
  }
}

/** Whether a tile value could run, the kernel's other tiles as they are: marks options in the selects. */
export function tileValueProblem(caps: DeviceCaps, kernelName: string, shape: object, tiles: Tiles, key: string, value: number): string | null {
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

/** The text a field's control shows for the configuration (empty for a field that follows another). */
export function fieldText(config: PageConfig, field: ShapeField): string {
  const v = config.shape[field.key];
  return v === undefined ? '' : formatFieldList(field, [v]);
}

export { MAX_SWEEP_VALUES };
