// Every kernel against the float64 reference on a real adapter (SwiftShader in CI): head dims
// 32/64/128, causal and not, multi-head, grouped-query and multi-query, lengths 1, 7, 100, 129 and
// Nq ≠ Nk, with several tile configurations per kernel, some of which do not divide the lengths.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AttentionDevice,
  type AttentionShape,
  type Tiles,
  compareOutputs,
  getKernel,
  planRun,
  randomInputs,
  referenceAttention,
  runAttention,
  shapeLabel,
} from '../src/index.js';
import { flashGeometry } from '../src/kernels/flash.js';
import { sharedDevice } from './helpers/gpu.js';

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

/** (seqQ, seqK) pairs: length 1, odd lengths, lengths past a tile, decode and Nq > Nk. */
const LENGTHS: [number, number][] = [
  [1, 1],
  [7, 7],
  [100, 100],
  [129, 129],
  [1, 129],
  [37, 100],
  [100, 37],
];
/** (heads, kvHeads): multi-head, grouped-query, multi-query. */
const HEADS: [number, number][] = [
  [2, 2],
  [4, 2],
  [3, 1],
];

function shapesFor(headDim: number): AttentionShape[] {
  const shapes: AttentionShape[] = [];
  let n = 0;
  for (const [seqQ, seqK] of LENGTHS)
    for (const causal of [false, true]) {
      // Rotate head layouts and batch sizes over the lengths rather than cross all of them.
      const [heads, kvHeads] = HEADS[n % HEADS.length]!;
      shapes.push({ batch: 1 + (n % 2), heads, kvHeads, seqQ, seqK, headDim, causal });
      n++;
    }
  return shapes;
}

async function expectMatchesReference(kernel: string, shape: AttentionShape, tiles: Partial<Tiles>) {
  const inputs = randomInputs(shape, 17 + shape.seqQ * 31 + shape.seqK);
  const result = await runAttention(gpu, inputs, { kernel, tiles });
  const cmp = compareOutputs(result.output, referenceAttention(inputs), getKernel(kernel).tolerance);
  expect(cmp.ok, `${kernel} ${shapeLabel(shape)} tiles ${JSON.stringify(result.tiles)}: ${cmp.mismatches} mismatches, max abs error ${cmp.maxAbsError}`).toBe(true);
  return result;
}

const FLASH_CONFIGS: Record<number, Tiles[]> = {
  // Defaults, a 1-row-per-invocation config (scalar P reads), shared-memory reductions, the
  // reduction-free rowThreads = 1 path, and subgroup shuffles of width 2 and 4.
  32: [
    { br: 64, bc: 32, wg: 128, rowThreads: 4, subgroups: 1 },
    { br: 16, bc: 8, wg: 32, rowThreads: 2, subgroups: 0 },
    { br: 8, bc: 16, wg: 16, rowThreads: 8, subgroups: 0 },
    { br: 32, bc: 16, wg: 32, rowThreads: 1, subgroups: 0 },
  ],
  64: [
    { br: 32, bc: 16, wg: 64, rowThreads: 4, subgroups: 1 },
    { br: 32, bc: 16, wg: 64, rowThreads: 2, subgroups: 1 },
    { br: 16, bc: 64, wg: 128, rowThreads: 16, subgroups: 0 },
  ],
  128: [
    { br: 16, bc: 16, wg: 64, rowThreads: 4, subgroups: 1 },
    { br: 8, bc: 8, wg: 32, rowThreads: 8, subgroups: 0 },
  ],
};

describe.each([32, 64, 128])('flash, d = %i', (headDim) => {
  it.each(FLASH_CONFIGS[headDim]!.map((t) => [JSON.stringify(t), t] as const))('matches the reference with tiles %s', async (_label, tiles) => {
    const plan = planRun(gpu.caps, 'flash', shapesFor(headDim)[0]!, tiles);
    expect(plan.tiles).toEqual(tiles);
    for (const shape of shapesFor(headDim)) await expectMatchesReference('flash', shape, tiles);
  });

  it('matches the reference with its default tiles for this device', async () => {
    for (const shape of shapesFor(headDim)) await expectMatchesReference('flash', shape, {});
  });
});

describe.each([32, 64, 128])('naive, d = %i', (headDim) => {
  const configs: Tiles[] = [
    { wgScores: 64, wgSoftmax: 64, wgPv: 64 },
    // Workgroups wider than d (idle lanes in P·V) and narrower than the lengths.
    { wgScores: 32, wgSoftmax: 128, wgPv: 256 },
  ];
  it.each(configs.map((t) => [JSON.stringify(t), t] as const))('matches the reference with tiles %s', async (_label, tiles) => {
    for (const shape of shapesFor(headDim)) await expectMatchesReference('naive', shape, tiles);
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
    const limit = gpu.caps.limits.maxComputeWorkgroupStorageSize;
    let best: { tiles: Tiles; bytes: number } | undefined;
    for (const br of [8, 16, 32, 64, 128])
      for (const bc of [8, 16, 32, 64, 128]) {
        const tiles = { br, bc, wg: 64, rowThreads: 4, subgroups: 0 };
        const bytes = flashGeometry(64, tiles).workgroupBytes;
        if (bytes <= limit && (!best || bytes > best.bytes)) best = { tiles, bytes };
      }
    expect(best).toBeDefined();
    expect(limit - best!.bytes).toBeLessThan(limit / 4);
    await expectMatchesReference('flash', { batch: 1, heads: 1, kvHeads: 1, seqQ: 70, seqK: 70, headDim: 64, causal: false }, best!.tiles);
  });
});
