import { ConfigError } from '../errors.js';
import type { DeviceCaps } from '../gpu/caps.js';
import { resolveTiles } from '../attention/common.js';
import { getKernel } from '../attention/registry.js';
import type { KernelDescriptor, RawShape, Tiles } from '../attention/types.js';

/** A kernel, a resolved shape of its problem and tiles that have passed every check against a device. */
export interface RunPlan<S extends object = any> {
  kernel: KernelDescriptor<S>;
  shape: S;
  tiles: Tiles;
}

/**
 * Resolves and checks a run before any GPU work: the kernel, the shape (through the kernel's
 * problem), the tiles (defaults filled in) and the device's features and limits. Throws
 * AttentionInputError, TileError or ConfigError, each naming the value and the limit.
 */
export function planRun(caps: DeviceCaps, kernelOrName: string | KernelDescriptor, shape: RawShape | object, tiles?: Partial<Tiles>): RunPlan {
  const kernel = typeof kernelOrName === 'string' ? getKernel(kernelOrName) : kernelOrName;
  return planResolved(caps, kernel, kernel.problem.resolve(shape as RawShape), tiles);
}

/** planRun for a shape the kernel's problem has already resolved (one resolution per benchmark call). */
export function planResolved<S extends object>(caps: DeviceCaps, kernel: KernelDescriptor<S>, resolved: S, tiles?: Partial<Tiles>): RunPlan<S> {
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
