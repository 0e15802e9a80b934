import { ConfigError } from '../errors.js';
import type { DeviceCaps } from '../gpu/caps.js';
import { resolveTiles } from '../attention/common.js';
import { getKernel } from '../attention/registry.js';
import type { KernelDescriptor, Tiles } from '../attention/legacy-types.js';
import { type AttentionShape, type ResolvedShape, resolveShape } from '../attention/dense/shape.js';

/** A kernel, a shape and tiles that have passed every check against a device. */
export interface RunPlan {
  kernel: KernelDescriptor;
  shape: ResolvedShape;
  tiles: Tiles;
}

/**
 * Resolves and checks a run before any GPU work: the kernel name, the shape, the tiles (defaults
 * filled in) and the device's features and limits. Throws AttentionInputError, TileError or
 * ConfigError, each naming the value and the limit.
 */
export function planRun(caps: DeviceCaps, kernelName: string, shape: AttentionShape, tiles?: Partial<Tiles>): RunPlan {
  const kernel = getKernel(kernelName);
  const resolved = resolveShape(shape);
  const missing = kernel.requiredFeatures.filter((f) => !caps.features.includes(f));
  if (missing.length > 0) {
    throw new ConfigError(
      kernel.name,
      missing.map((f) => ({ limit: `feature ${f}`, requested: 1, available: 0, message: `needs the "${f}" feature, which this device lacks` })),
    );
  }
  const full = resolveTiles(kernel, kernel.defaultTiles(resolved, caps), tiles);
  const problems = kernel.check(resolved, full, caps);
  if (problems.length > 0) throw new ConfigError(kernel.name, problems);
  return { kernel, shape: resolved, tiles: full };
}
