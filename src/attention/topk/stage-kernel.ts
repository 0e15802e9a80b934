import { F32_TOLERANCE, type Tolerance } from '../../harness/compare.js';
import type { PreparedKernel } from '../types.js';
import type { CompiledPipeline } from '../../gpu/pipelines.js';

/**
 * Integer outputs (selected key indices) must match exactly: compareExpected applies one tolerance
 * to every tensor of a kernel, so a kernel that writes indices uses rtol 0 and an atol below 1 (an
 * off-by-one index fails). Attention outputs of the pipeline are convex combinations of V rows
 * (|o| ≤ max |v|, 1 for the seeded inputs), so an absolute 2e-4 is as strict as F32_TOLERANCE there.
 */
export const EXACT_INDEX_TOLERANCE: Tolerance = { atol: 2 * F32_TOLERANCE.atol, rtol: 0 };

/** The PreparedKernel fields that describe compiled pipelines (concurrent compiles: the slowest counts). */
export function describePipelines(pipelines: readonly CompiledPipeline[]): Omit<PreparedKernel, 'bind'> {
  return {
    compileMs: Math.max(...pipelines.map((p) => (p.cached ? 0 : p.compileMs))),
    cached: pipelines.every((p) => p.cached),
    shaders: pipelines.map((p) => ({ label: p.label, code: p.code })),
  };
}
