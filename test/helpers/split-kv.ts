// What the split-KV decode kernels' tests share (decode.test.ts, mla.test.ts): the two devices their
// planning is checked on, every conformance configuration planned on a device, and a run on the
// adapter checked against the problem's float64 reference.
import { expect } from 'vitest';
import type { KernelDescriptor, Tiles } from '../../src/attention/types.js';
import { DEFAULT_LIMITS, type DeviceCaps, defaultCaps } from '../../src/gpu/caps.js';
import type { AttentionDevice } from '../../src/gpu/device.js';
import { compareExpected, mergeComparisons } from '../../src/harness/compare.js';
import { type KernelRunResult, planRun, runKernel } from '../../src/index.js';

/** What Dawn reports on an NVIDIA H200 (Vulkan): subgroups of 32, larger limits. */
export const H200_CAPS: DeviceCaps = defaultCaps({
  features: ['shader-f16', 'subgroups', 'timestamp-query'],
  subgroupMinSize: 32,
  subgroupMaxSize: 32,
  limits: {
    ...DEFAULT_LIMITS,
    maxComputeWorkgroupStorageSize: 49152,
    maxComputeInvocationsPerWorkgroup: 1024,
    maxComputeWorkgroupSizeX: 1024,
    maxStorageBufferBindingSize: 2 ** 31 - 4,
    maxBufferSize: 2 ** 32,
  },
});

/** What the CPU adapter (SwiftShader) reports: 32 KiB of workgroup memory, subgroups of 4. */
export const SWIFTSHADER_CAPS: DeviceCaps = defaultCaps({
  features: ['subgroups', 'timestamp-query'],
  subgroupMinSize: 4,
  subgroupMaxSize: 4,
  limits: {
    ...DEFAULT_LIMITS,
    maxComputeWorkgroupStorageSize: 32768,
    maxStorageBufferBindingSize: 2 ** 30,
    maxBufferSize: 2 ** 30,
    maxStorageBuffersPerShaderStage: 12,
  },
});

/** Plans every tile configuration of every conformance group on every conformance shape, on `caps`. */
export function expectConformancePlans(kernel: KernelDescriptor, caps: DeviceCaps): void {
  for (const group of kernel.conformance)
    for (const s of kernel.problem.conformanceShapes(group.fixed))
      for (const tiles of group.tiles) expect(() => planRun(caps, kernel, s, tiles), `${kernel.problem.label(s)} ${JSON.stringify(tiles)}`).not.toThrow();
}

/** Runs `kernel` on the adapter and expects its outputs to match the reference (1e8 multiply-adds of it). */
export async function expectMatchesReference(gpu: AttentionDevice, kernel: KernelDescriptor, shape: object, tiles: Partial<Tiles>): Promise<KernelRunResult> {
  const result = await runKernel(gpu, { kernel, shape, tiles });
  const expected = kernel.problem.reference(result.shape, result.inputs, 1e8);
  const cmp = mergeComparisons(Object.values(compareExpected(expected, result.outputs, kernel.tolerance)));
  expect(cmp.ok, `${kernel.problem.label(shape)} tiles ${JSON.stringify(result.tiles)}: ${cmp.mismatches} mismatches, max abs error ${cmp.maxAbsError}`).toBe(
    true,
  );
  return result;
}
