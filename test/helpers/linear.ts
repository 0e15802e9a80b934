// What the linear family's GPU tests share (linear.test.ts, linear-mma.test.ts): a run on the
// adapter checked against the float64 reference, by the kernel's tolerance and by relative RMS.
import { expect } from 'vitest';
import { linearProblem } from '../../src/attention/linear/problem.js';
import { relativeRms } from '../../src/attention/linear/reference.js';
import { type LinearShape, shapeLabel } from '../../src/attention/linear/shape.js';
import type { HostTensors, KernelDescriptor, Tiles } from '../../src/attention/types.js';
import type { AttentionDevice } from '../../src/gpu/device.js';
import { compareExpected, mergeComparisons, tensorValues } from '../../src/harness/compare.js';
import { runKernel } from '../../src/harness/run.js';

/**
 * Relative RMS bound, RMS(ref − out)/RMS(ref), as flash-linear-attention's tests measure: f32
 * kernels reorder sums of at most T·d_k products of O(1) values, ~1e-7 per operation, so 1e-5
 * leaves a wide margin while catching any wrong decay or mask (errors of 1e-2 and more).
 */
export const F32_RMS_BOUND = 1e-5;

/** Runs the kernel (seed 11 unless inputs are given) and checks o and sT against the reference. */
export async function expectLinearMatches(gpu: AttentionDevice, kernel: KernelDescriptor, s: LinearShape, tiles: Partial<Tiles>, inputs?: HostTensors) {
  const run = await runKernel(gpu, { kernel, shape: s, tiles, inputs, seed: 11 });
  const expected = linearProblem.reference(s, run.inputs, 1e9);
  const merged = mergeComparisons(Object.values(compareExpected(expected, run.outputs, kernel.tolerance)));
  const what = `${kernel.name} ${shapeLabel(s)} tiles ${JSON.stringify(run.tiles)}`;
  expect(merged.ok, `${what}: ${merged.mismatches} mismatches, max abs error ${merged.maxAbsError}`).toBe(true);
  for (const name of ['o', 'sT']) {
    expect(relativeRms(expected[name]!.values, tensorValues(run.outputs[name]!)), `${what}: relative RMS of ${name}`).toBeLessThan(F32_RMS_BOUND);
  }
  return run;
}
