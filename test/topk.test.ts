// The top-k sparse attention family (DeepSeek Sparse Attention): the float64 reference's rules,
// input validation and device checks without a GPU, then every kernel on its conformance shapes
// on the real adapter (SwiftShader here), the selection compared exactly, ties included.
import { beforeAll, describe, expect, it } from 'vitest';
import { AttentionInputError } from '../src/errors.js';
import { DEFAULT_LIMITS, defaultCaps } from '../src/gpu/caps.js';
import { type AttentionDevice, createDevice } from '../src/gpu/device.js';
import { compareExpected } from '../src/harness/compare.js';
import { runKernel } from '../src/harness/run.js';
import type { HostTensor, HostTensors, KernelDescriptor, RawShape, Tiles } from '../src/attention/types.js';
import { topkIndexKernel } from '../src/attention/topk/indexer/kernel.js';
import { topkSelectKernel } from '../src/attention/topk/select/kernel.js';
import { topkAttendKernel } from '../src/attention/topk/attend/kernel.js';
import { topkPipelineKernel, scratchBytes } from '../src/attention/topk/pipeline/kernel.js';
import { topkAttendProblem, topkIndexProblem, topkProblem, topkSelectProblem, validateIndices } from '../src/attention/topk/problems.js';
import { selectTopK } from '../src/attention/topk/reference.js';
import type { TopkShape } from '../src/attention/topk/shape.js';

describe('top-k reference and checks (no GPU)', () => {
  it('selects the largest scores, ties to the lower key index, sorted, −1 padded', () => {
    expect([...selectTopK([3, 1, 3, 2, 3], 5, 2)]).toEqual([0, 2]);
    expect([...selectTopK([1, 5, 5, 0], 4, 2)]).toEqual([1, 2]);
    expect([...selectTopK([0, -0, 0], 3, 1)]).toEqual([0]);
    expect([...selectTopK([9, 8], 2, 4)]).toEqual([0, 1, -1, -1]);
    // Only the first `count` (causal) candidates take part.
    expect([...selectTopK([1, 2, 100], 2, 1)]).toEqual([1]);
  });

  it('refuses indices past the causal limit or the keys, naming query, slot and value', () => {
    const s = topkAttendProblem.resolve({ seqK: 4, topK: 2, heads: 1, headDim: 4 });
    const good = new Int32Array([0, -1, 0, 1, 2, -1, 3, 0]);
    expect(() => validateIndices(s, good)).not.toThrow();
    expect(() => validateIndices(s, new Int32Array([0, -1, 0, 2, 0, 0, 0, 0]))).toThrow(
      /indices\[batch 0, query 1, slot 1\] = 2 is past the query's causal limit 1/,
    );
    expect(() => validateIndices(s, new Int32Array([0, -1, 0, 1, 0, 0, 4, 0]))).toThrow(/query 3, slot 0\] = 4 is past the last key 3/);
    expect(() => validateIndices(s, new Int32Array([-2, -1, 0, 1, 0, 0, 0, 0]))).toThrow(AttentionInputError);
  });

  it('refuses inconsistent shapes with the value and the limit', () => {
    expect(() => topkProblem.resolve({ heads: 4, kvHeads: 3 })).toThrow(/kvHeads \(3\) must divide heads \(4\)/);
    expect(() => topkProblem.resolve({ indexDim: 6 })).toThrow(/indexDim must be a multiple of 4, got 6/);
    expect(() => topkSelectProblem.resolve({ seqK: 10, queryRows: 11 })).toThrow(/queryRows \(11\) must be at most/);
    expect(() => topkProblem.resolve({ topK: 0 })).toThrow(/topK must be a whole number from 1/);
  });

  it('checks heads per workgroup against the group and workgroup memory against the device', () => {
    const s = topkAttendProblem.resolve({ heads: 4, kvHeads: 2, headDim: 128, topK: 16 });
    expect(topkAttendKernel.check(s, { hpw: 4, tk: 16 }, defaultCaps()).map((p) => p.limit)).toContain('heads per workgroup divides heads / kvHeads');
    const big = topkAttendProblem.resolve({ heads: 16, kvHeads: 1, headDim: 256 });
    const problems = topkAttendKernel.check(big, { hpw: 16, tk: 64 }, defaultCaps());
    expect(problems.map((p) => p.limit)).toEqual(['maxComputeWorkgroupStorageSize']);
    expect(problems[0]!.message).toMatch(/needs \d+ bytes .* but maxComputeWorkgroupStorageSize is 16384 bytes/);
    for (const shape of [s, big]) expect(topkAttendKernel.check(shape, topkAttendKernel.defaultTiles(shape, defaultCaps()), defaultCaps())).toEqual([]);
  });

  it('keeps the score scratch bounded at N = 131072 (never N × N)', () => {
    const caps = defaultCaps({ limits: { ...DEFAULT_LIMITS, maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31 } });
    const s = topkProblem.resolve({ seqK: 131072, heads: 16, headDim: 128, topK: 2048 });
    const tiles = topkPipelineKernel.defaultTiles(s, caps);
    expect(scratchBytes(s, tiles.blockRows)).toBeLessThanOrEqual(256 * 2 ** 20);
    expect(topkPipelineKernel.check(s, tiles, caps)).toEqual([]);
    // On WebGPU's default 128 MiB binding the block shrinks to fit.
    const small = topkPipelineKernel.defaultTiles(s, defaultCaps());
    expect(scratchBytes(s, small.blockRows)).toBeLessThanOrEqual(DEFAULT_LIMITS.maxStorageBufferBindingSize);
  });
});

describe('top-k stage problems at N = 65536 (no GPU)', () => {
  // The H200's limits that matter here: 2 GiB bindings, 65535 workgroups per grid dimension.
  const h200 = defaultCaps({
    limits: { ...DEFAULT_LIMITS, maxStorageBufferBindingSize: 2 ** 31 - 4, maxBufferSize: 2 ** 31, maxComputeWorkgroupStorageSize: 32768 },
  });

  it('defaults queryRows to the last rows whose scores fit 256 MiB, and the stages pass their checks', () => {
    const index = topkIndexProblem.resolve({ seqK: 65536, indexHeads: 4, indexDim: 64 });
    expect(index.queryRows).toBe(1024);
    expect(topkIndexKernel.check(index, {}, h200)).toEqual([]);
    const select = topkSelectProblem.resolve({ seqK: 131072, topK: 2048 });
    expect(select.queryRows).toBe(512);
    expect(topkSelectKernel.check(select, {}, h200)).toEqual([]);
    // Small N: every query, as before.
    expect(topkSelectProblem.resolve({ seqK: 100 }).queryRows).toBe(100);
    expect(topkIndexProblem.resolve({ seqK: 100, queryRows: 7 }).queryRows).toBe(7);
  });

  it('selects every one of 65536 query rows through a 2-D grid, and the MQA attention defaults to hpw 16', () => {
    const all = topkSelectProblem.resolve({ seqK: 65536, queryRows: 65536, topK: 2048 });
    expect(topkSelectKernel.check(all, {}, h200)).toEqual([]);
    const attend = topkAttendProblem.resolve({ seqK: 65536, heads: 16, kvHeads: 1, headDim: 128, topK: 2048 });
    const tiles = topkAttendKernel.defaultTiles(attend, h200);
    expect(tiles).toEqual({ hpw: 16, tk: 32 });
    expect(topkAttendKernel.check(attend, tiles, h200)).toEqual([]);
    // On WebGPU's default 16 KiB of workgroup memory the chunk narrows, the heads stay shared.
    expect(topkAttendKernel.defaultTiles(attend, defaultCaps())).toEqual({ hpw: 16, tk: 8 });
  });
});

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await createDevice();
});

/** One run through the harness (shape, features, tiles and inputs checked first). */
async function runTopk(kernel: KernelDescriptor, raw: RawShape | object, tiles: Partial<Tiles>, given?: HostTensors) {
  const result = await runKernel(gpu, { kernel, shape: raw, tiles, ...(given ? { inputs: given } : {}) });
  return { shape: result.shape as TopkShape, inputs: result.inputs, outputs: result.outputs, tiles: result.tiles };
}

async function expectConformance(kernel: KernelDescriptor, raw: RawShape | object, tiles: Partial<Tiles>, inputs?: HostTensors) {
  const result = await runTopk(kernel, raw, tiles, inputs);
  const expected = kernel.problem.reference(result.shape, result.inputs, 2e7);
  const label = `${kernel.name} ${kernel.problem.label(result.shape)} ${JSON.stringify(result.tiles)}`;
  for (const [name, c] of Object.entries(compareExpected(expected, result.outputs, kernel.tolerance))) {
    expect(c.ok, `${label} ${name}: ${c.mismatches} mismatches, worst at ${c.worstIndex}, max abs error ${c.maxAbsError}`).toBe(true);
  }
}

const KERNELS: KernelDescriptor[] = [topkIndexKernel, topkSelectKernel, topkAttendKernel, topkPipelineKernel];

describe.each(KERNELS.map((k) => [k.name, k] as const))('%s on the adapter', (_name, kernel) => {
  it('matches the float64 reference on every conformance shape and tile group', async () => {
    for (const group of kernel.conformance)
      for (const tiles of group.tiles)
        for (const shape of kernel.problem.conformanceShapes(group.fixed) as TopkShape[]) await expectConformance(kernel, shape, tiles);
  });
});

describe('topk-attend input validation on the adapter', () => {
  it('refuses an index past the causal limit before any dispatch, naming query, slot and value', async () => {
    const s = topkAttendProblem.resolve({ seqK: 7, topK: 4, heads: 2, headDim: 8 });
    const inputs = topkAttendProblem.inputs(s, 3) as Record<string, HostTensor>;
    const indices = Int32Array.from(inputs.indices as Int32Array);
    indices[5 * 4 + 2] = 6;
    const error = await runTopk(topkAttendKernel, s, {}, { ...inputs, indices }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttentionInputError);
    expect((error as Error).message).toBe("indices[batch 0, query 5, slot 2] = 6 is past the query's causal limit 5");
  });
});
