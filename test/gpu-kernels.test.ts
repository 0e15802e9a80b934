// Every kernel against the float64 reference on a real adapter (SwiftShader in CI): head dims
// 32/64/128, causal and not, multi-head, grouped-query and multi-query, lengths 1, 7, 100, 129 and
// Nq ≠ Nk, with several tile configurations per kernel, some of which do not divide the lengths.
// The matrix is each kernel's `conformance` groups on its problem's conformance shapes
// (src/harness/conformance.ts), which `npm run bench -- --conformance` also runs on GPUs (where the
// f16 kernels can run too).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AttentionDevice,
  type AttentionShape,
  ConfigError,
  type Tiles,
  compareOutputs,
  conformanceGroups,
  planRun,
  randomInputs,
  referenceAttention,
  runAttention,
  runConformanceCase,
  shapeLabel,
} from '../src/index.js';
import { flashGeometry, flashKernel } from '../src/attention/dense/flash/kernel.js';
import { resolveShape } from '../src/attention/dense/shape.js';
import { conformanceShapes } from '../src/attention/dense/conformance.js';
import { sharedDevice } from './helpers/gpu.js';

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

async function expectMatchesReference(kernel: string, shape: AttentionShape, tiles: Partial<Tiles>) {
  const r = await runConformanceCase(gpu, { kernel, shape, tiles });
  expect(r.refused, `${kernel} ${shapeLabel(shape)} was refused`).toBeUndefined();
  expect(r.ok, `${kernel} ${shapeLabel(shape)} tiles ${JSON.stringify(r.tiles)}: ${r.mismatches} mismatches, max abs error ${r.maxAbsError}`).toBe(true);
}

const groups = conformanceGroups(['naive', 'flash']);

describe.each(groups.map((g) => [g.kernel, g.fixed.headDim, JSON.stringify(g.tiles), g] as const))('%s, d = %i, tiles %s', (_k, _d, _t, group) => {
  it('matches the reference on every conformance shape', async () => {
    expect(group.shapes.length).toBeGreaterThanOrEqual(14);
    const plan = planRun(gpu.caps, group.kernel, group.shapes[0]!, group.tiles);
    expect(plan.tiles).toMatchObject(group.tiles);
    for (const shape of group.shapes) await expectMatchesReference(group.kernel, shape as AttentionShape, group.tiles);
  });
});

describe('f16 kernels on a device without shader-f16', () => {
  it('are refused before any GPU work, naming the feature', async () => {
    expect(gpu.caps.features).not.toContain('shader-f16');
    const inputs = randomInputs(conformanceShapes(64)[3]!, 1);
    const error = await runAttention(gpu, inputs, { kernel: 'flash-f16' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).limit).toBe('feature shader-f16');
    expect((error as Error).message).toMatch(/flash-f16: needs the "shader-f16" feature, which this device lacks/);
  });
});

describe('flash-mma on a device without subgroup matrices', () => {
  it('is refused before any GPU work, naming each missing feature', async () => {
    expect(gpu.caps.features).not.toContain('chromium-experimental-subgroup-matrix');
    const inputs = randomInputs(conformanceShapes(64)[3]!, 1);
    const error = await runAttention(gpu, inputs, { kernel: 'flash-mma' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const limits = (error as ConfigError).problems.map((p) => p.limit);
    expect(limits).toContain('feature chromium-experimental-subgroup-matrix');
    for (const feature of ['shader-f16', 'subgroups']) {
      expect(limits.includes(`feature ${feature}`)).toBe(!gpu.caps.features.includes(feature));
    }
    expect((error as Error).message).toMatch(/needs the "chromium-experimental-subgroup-matrix" feature, which this device lacks/);
  });
});

describe('both kernels agree on larger and unusual shapes', () => {
  it('batch 2, 8 query heads over 2 KV heads, 300 × 517, causal, d = 64', async () => {
    const shape = { batch: 2, heads: 8, kvHeads: 2, seqQ: 300, seqK: 517, headDim: 64, causal: true };
    for (const kernel of ['naive', 'flash']) await expectMatchesReference(kernel, shape, {});
  });

  it('a custom softmax scale', async () => {
    const shape = { batch: 1, heads: 2, kvHeads: 2, seqQ: 33, seqK: 65, headDim: 32, causal: false, scale: 0.9 };
    for (const kernel of ['naive', 'flash']) await expectMatchesReference(kernel, shape, {});
  });

  it('naive handles head dims flash cannot (not a multiple of 4)', async () => {
    await expectMatchesReference('naive', { batch: 1, heads: 1, kvHeads: 1, seqQ: 9, seqK: 11, headDim: 30, causal: true }, {});
  });

  it('large magnitudes: scores of ±1000 stay finite and exact (max subtraction)', async () => {
    const shape = { batch: 1, heads: 1, kvHeads: 1, seqQ: 20, seqK: 40, headDim: 32, causal: false, scale: 1 };
    const inputs = randomInputs(shape, 5);
    for (let i = 0; i < inputs.q.length; i++) inputs.q[i]! *= 30;
    for (const kernel of ['naive', 'flash']) {
      const result = await runAttention(gpu, inputs, { kernel });
      const cmp = compareOutputs(result.output, referenceAttention(inputs), { atol: 1e-3, rtol: 1e-3 });
      expect(cmp.ok, `${kernel}: max abs error ${cmp.maxAbsError}`).toBe(true);
    }
  });
});

describe('workgroup memory model', () => {
  it('compiles a configuration whose modelled storage is close to the device limit', async () => {
    // If the model undercounted, this configuration would fail pipeline creation on the device.
    // Prefetch and unroll take their defaults (1 and 16; they change registers, not workgroup
    // memory), so where the winner is also a conformance configuration (on SwiftShader's 32 KiB:
    // br 16, bc 64, 8 threads a row, 30208 bytes) its pipeline is the one compiled above, not a
    // second shader that SwiftShader takes seconds to compile.
    const limit = gpu.caps.limits.maxComputeWorkgroupStorageSize;
    const shape = { batch: 1, heads: 1, kvHeads: 1, seqQ: 70, seqK: 70, headDim: 64, causal: false };
    let best: { tiles: Tiles; bytes: number } | undefined;
    for (const br of [16, 32, 64, 128])
      for (const bc of [8, 16, 32, 64, 128])
        for (const rowThreads of [2, 4, 8]) {
          const tiles = { br, bc, wg: 64, rowThreads, subgroups: 0, prefetch: 1, unroll: 16 };
          // Only configurations the kernel accepts (registers included), so the bytes are the binding limit.
          if (flashKernel.check(resolveShape(shape), tiles, gpu.caps).length > 0) continue;
          const bytes = flashGeometry(64, tiles).workgroupBytes;
          if (!best || bytes > best.bytes) best = { tiles, bytes };
        }
    expect(best).toBeDefined();
    expect(limit - best!.bytes).toBeLessThan(limit / 4);
    await expectMatchesReference('flash', shape, best!.tiles);
  });
});
