// The correctness matrix: every kernel's conformance groups (tile configurations, from its
// descriptor) on its problem's conformance shapes (odd sizes, length 1, the family's edge cases),
// against the float64 reference. The GPU tests run it on SwiftShader; `bench --conformance` runs
// it on any device, the kernels SwiftShader cannot run (f16, subgroup matrices) included.
import { shapeKey } from '../attention/fields.js';
import { getKernel } from '../attention/registry.js';
import type { KernelDescriptor, RawShape, Tiles } from '../attention/types.js';
import { ConfigError } from '../errors.js';
import type { AttentionDevice } from '../gpu/device.js';
import { compareExpected, mergeComparisons } from './compare.js';
import { planRun } from './plan.js';
import { runKernel } from './run.js';

export interface ConformanceCase {
  kernel: string;
  shape: object;
  tiles: Partial<Tiles>;
}

export interface ConformanceResult extends ConformanceCase {
  ok: boolean;
  maxAbsError: number;
  mismatches: number;
  /** Set when the device cannot run the configuration. */
  refused?: string;
}

export interface ConformanceGroupCase {
  kernel: string;
  fixed: RawShape;
  tiles: Partial<Tiles>;
  /** The problem's conformance shapes with `fixed` held. */
  shapes: object[];
}

/** A seed per shape, so that shapes of one group do not share inputs. */
function seedOf(kernel: KernelDescriptor, shape: object): number {
  let h = 17;
  for (const ch of shapeKey(kernel.problem.fields, shape)) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h % 100_000;
}

/** Runs one case: the kernel's outputs against the reference, with the kernel's tolerance. */
export async function runConformanceCase(gpu: AttentionDevice, c: ConformanceCase): Promise<ConformanceResult> {
  const kernel = getKernel(c.kernel);
  try {
    const result = await runKernel(gpu, { kernel, shape: c.shape, tiles: c.tiles, seed: seedOf(kernel, kernel.problem.resolve(c.shape as RawShape)) });
    // The whole reference (no sampling): conformance shapes are small.
    const expected = kernel.problem.reference(result.shape, result.inputs, Infinity);
    const cmp = mergeComparisons(Object.values(compareExpected(expected, result.outputs, kernel.tolerance)));
    return { ...c, tiles: result.tiles, ok: cmp.ok, maxAbsError: cmp.maxAbsError, mismatches: cmp.mismatches };
  } catch (error) {
    if (error instanceof ConfigError) return { ...c, ok: false, maxAbsError: Number.NaN, mismatches: 0, refused: error.message };
    throw error;
  }
}

/** Every (kernel, fixed fields, tiles) group of the matrix for the kernels given, with its shapes. */
export function conformanceGroups(kernels: readonly string[]): ConformanceGroupCase[] {
  const out: ConformanceGroupCase[] = [];
  for (const name of kernels) {
    const kernel = getKernel(name);
    for (const group of kernel.conformance) {
      const shapes = kernel.problem.conformanceShapes(group.fixed);
      for (const tiles of group.tiles) out.push({ kernel: kernel.name, fixed: group.fixed, tiles, shapes });
    }
  }
  return out;
}

/** Why the device cannot run a group at all (features, limits), checked on its first shape; null when it can. */
export function groupRefusal(gpu: AttentionDevice, group: ConformanceGroupCase): string | null {
  try {
    planRun(gpu.caps, group.kernel, group.shapes[0]!, group.tiles);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
