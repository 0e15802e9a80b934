// The decode family: shape and input checks, the float64 reference against the dense one, the
// split kernel's device model, and every conformance shape × tile configuration on the real
// adapter (f32 and f16 K/V both run here: f16 is widened with unpack2x16float, no shader-f16).
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttentionDevice } from '../src/gpu/device.js';
import { ConfigError } from '../src/errors.js';
import { referenceAttention } from '../src/attention/dense/reference.js';
import { decodeProblem, GARBAGE, UNUSED_SLOT } from '../src/attention/decode/problem.js';
import { referenceDecode } from '../src/attention/decode/reference.js';
import { type DecodeShape, contextLengths, poolBlocks } from '../src/attention/decode/shape.js';
import { MAX_REGISTER_FLOATS, TARGET_WORKGROUPS, decodeSplitKernel, splitGeometry, splitShaderCode } from '../src/attention/decode/split/kernel.js';
import { fromHalfArray } from '../src/attention/half.js';
import { decode } from '../src/attention/decode/index.js';
import { AttentionInputError } from '../src/errors.js';
import { planRun, runKernel } from '../src/index.js';
import { sharedDevice } from './helpers/gpu.js';
import { H200_CAPS as h200, SWIFTSHADER_CAPS as swiftshader, expectConformancePlans, expectMatchesReference } from './helpers/split-kv.js';

const shape = (raw: Record<string, unknown>): DecodeShape =>
  decodeProblem.resolve({ batch: 1, heads: 4, kvHeads: 2, headDim: 32, seqK: 100, kvType: 'f32', ...raw } as never);

describe('decode problem', () => {
  it('is a family with the split kernel', () => {
    expect(decode.kernels.map((k) => k.name)).toEqual(['decode-split']);
    expect(decode.problem.family).toBe('decode');
  });

  it('gives mixed batches deterministic, differing lengths and refuses Nq past the shortest', () => {
    expect(contextLengths(shape({ batch: 3, lengths: 'mixed' }))).toEqual([34, 67, 100]);
    expect(() => shape({ batch: 4, seqK: 20, lengths: 'mixed', seqQ: 8 })).toThrow(
      /seqQ = 8 query rows need at least as many keys, but the shortest context holds 5/,
    );
    expect(() => shape({ heads: 6, kvHeads: 4 })).toThrow(AttentionInputError);
    expect(() => shape({ layout: 'paged', blockSize: 12 })).toThrow(/blockSize must be one of 8, 16, 32, 64/);
  });

  it('scatters blocks over a larger pool, marks unused slots and fills slots past each context with garbage', () => {
    const s = shape({ batch: 3, lengths: 'mixed', layout: 'paged', blockSize: 8 });
    const inputs = decodeProblem.inputs(s, 7);
    const table = inputs.blockTable as Uint32Array;
    // Lengths 34, 67, 100 → 5, 9, 13 blocks of 13 slots; the pool has spares.
    const used = [...table].filter((b) => b !== UNUSED_SLOT);
    expect(used.length).toBe(5 + 9 + 13);
    expect(new Set(used).size).toBe(used.length);
    expect(poolBlocks(s)).toBeGreaterThan(used.length);
    expect(used.slice(0, 5)).not.toEqual([0, 1, 2, 3, 4]);
    expect(table[5]).toBe(UNUSED_SLOT);
    // Key 34 of sequence 0 (slot 2 of its fifth block) is garbage.
    const k = inputs.k as Float32Array;
    const at = ((table[4]! * s.kvHeads + 0) * 8 + 2) * s.headDim;
    expect(Math.abs(k[at]!)).toBe(GARBAGE);
    expect(() => decodeProblem.validate(s, inputs)).not.toThrow();
  });

  it('validate names a block outside the pool, a length past the table or seqK, and half infinities', () => {
    const s = shape({ batch: 2, layout: 'paged', blockSize: 16 });
    const good = decodeProblem.inputs(s, 1);
    const table = (good.blockTable as Uint32Array).slice();
    table[7 + 3] = 9000;
    expect(() => decodeProblem.validate(s, { ...good, blockTable: table })).toThrow(`blockTable[1][3] = 9000 is outside the pool of ${poolBlocks(s)} blocks`);
    expect(() => decodeProblem.validate(s, { ...good, contextLens: Uint32Array.of(100, 113) })).toThrow(
      "contextLens[1] = 113 is past the block table's capacity of 7 blocks × 16 = 112 keys",
    );
    expect(() => decodeProblem.validate(s, { ...good, contextLens: Uint32Array.of(101, 100) })).toThrow('contextLens[0] = 101 is past seqK = 100');
    const h = shape({ kvType: 'f16' });
    const halves = decodeProblem.inputs(h, 1);
    const k = (halves.k as Uint16Array).slice();
    k[5] = 0x7c00;
    expect(() => decodeProblem.validate(h, { ...halves, k })).toThrow(/k\[5\] is a half-precision infinity/);
  });

  it('reference equals dense causal attention on the same contiguous cache (f32 and f16)', () => {
    for (const kvType of ['f32', 'f16'] as const) {
      const s = shape({ seqK: 37, seqQ: 5, kvType });
      const inputs = decodeProblem.inputs(s, 3);
      const rows = Array.from({ length: s.batch * s.heads * s.seqQ }, (_, i) => i);
      const got = referenceDecode(s, inputs, rows);
      const asF32 = (x: unknown) => (x instanceof Uint16Array ? fromHalfArray(x) : (x as Float32Array));
      const dense = referenceAttention({
        batch: 1,
        heads: 4,
        kvHeads: 2,
        seqQ: 5,
        seqK: 37,
        headDim: 32,
        causal: true,
        q: inputs.q as Float32Array,
        k: asF32(inputs.k),
        v: asF32(inputs.v),
      });
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(dense[i]!, 12);
    }
  });

  it('counts FLOPs over visible pairs and the minimal bytes of the context', () => {
    const s = shape({ seqK: 10, seqQ: 3, heads: 2, kvHeads: 1, headDim: 8, kvType: 'f16' });
    // Rows see 8, 9, 10 keys.
    expect(decodeProblem.flops(s)).toBe(4 * 8 * 2 * 27);
    expect(decodeProblem.minimalBytes(s)).toBe(2 * 10 * 1 * 8 * 2 + 2 * 2 * 3 * 8 * 4 + 4);
  });
});

describe('decode-split on an H200-like device', () => {
  const big = shape({ heads: 32, kvHeads: 8, headDim: 128, seqK: 131072, kvType: 'f16' });

  it('fills the device with long splits and reads K/V once per GQA group', () => {
    const tiles = decodeSplitKernel.defaultTiles(big, h200);
    expect(decodeSplitKernel.check(big, tiles, h200)).toEqual([]);
    const geo = splitGeometry(big, tiles);
    expect(geo.rowTiles).toBe(1);
    expect(tiles.subgroups).toBe(1);
    // At least TARGET_WORKGROUPS workgroups, each streaming a long run of keys (not 64 keys and a
    // merge over 2048 partials per row).
    const workgroups = geo.splits * big.kvHeads;
    expect(workgroups).toBeGreaterThanOrEqual(TARGET_WORKGROUPS);
    expect(workgroups).toBeLessThan(4 * TARGET_WORKGROUPS);
    expect(tiles.chunk).toBeGreaterThanOrEqual(512);
    // Each key's dot products meet over a few lanes, each invocation keeps eight K and eight V
    // vectors in flight per tile, and the loops over register arrays are written out.
    expect(tiles.lanes).toBe(2);
    expect(geo.laneVectors).toBe(8);
    expect(tiles.unroll).toBe(1);
    // K and V (537 MB) dominate: partials and Q/O add a few percent.
    const minimal = decodeProblem.minimalBytes(big);
    expect(minimal).toBeCloseTo(2 * 131072 * 8 * 128 * 2, -6);
    expect(decodeSplitKernel.bytesMoved(big, tiles) / minimal).toBeLessThan(1.02);
  });

  it('picks the chunk by the workgroup target: short contexts take short chunks, long ones long chunks', () => {
    const chunks = [8192, 32768, 131072].map((seqK) => decodeSplitKernel.defaultTiles({ ...big, seqK }, h200).chunk);
    expect(chunks).toEqual([...chunks].sort((a, b) => a - b));
    expect(chunks[2]).toBeGreaterThan(chunks[0]!);
    // A batch of 8 fills the device with 8× longer chunks.
    expect(decodeSplitKernel.defaultTiles({ ...big, batch: 8, seqK: 32768 }, h200).chunk).toBeGreaterThan(chunks[1]!);
  });

  it('fits every default on paged, f32 and Nq = 16 shapes; plain loops are a few hundred lines, written out under 1600', () => {
    for (const raw of [
      { layout: 'paged', blockSize: 16 },
      { kvType: 'f32' },
      { seqQ: 16 },
      { seqQ: 16, kvType: 'f32', layout: 'paged', blockSize: 8 },
      { batch: 8, seqK: 8192, seqQ: 16, lengths: 'mixed' },
    ]) {
      const s = { ...big, ...raw } as DecodeShape;
      const tiles = decodeSplitKernel.defaultTiles(s, h200);
      expect(decodeSplitKernel.check(s, tiles, h200), JSON.stringify(raw)).toEqual([]);
      expect(splitGeometry(s, tiles).registerFloats, JSON.stringify(raw)).toBeLessThanOrEqual(MAX_REGISTER_FLOATS);
      const code = splitShaderCode(s, tiles);
      expect(code.split('\n').length, JSON.stringify(raw)).toBeLessThan(1600);
      expect(splitShaderCode(s, { ...tiles, unroll: 0 }).split('\n').length, JSON.stringify(raw)).toBeLessThan(400);
      expect(code).not.toMatch(/@unroll/);
    }
  });

  it("runs every conformance group on every conformance shape, on H200 limits and on SwiftShader's", () => {
    for (const caps of [h200, swiftshader]) expectConformancePlans(decodeSplitKernel, caps);
  });

  it('refuses head dims that are not whole 16-byte vectors and lane counts that do not divide a row', () => {
    const odd = shape({ headDim: 36, kvType: 'f16' });
    expect(
      decodeSplitKernel.check(odd, { chunk: 256, wg: 128, lanes: 1, rows: 4, subgroups: 0, unroll: 0, stagger: 1, prefetch: 1, qregs: 0 }, h200)[0]!.message,
    ).toMatch(/multiple of 8, got 36/);
    const problems = decodeSplitKernel.check(
      shape({ headDim: 32 }),
      { chunk: 256, wg: 128, lanes: 16, rows: 4, subgroups: 0, unroll: 1, stagger: 0, prefetch: 0, qregs: 1 },
      h200,
    );
    expect(problems[0]!.limit).toBe('rowVectors % lanes');
  });
});

describe('decode-split on the adapter', () => {
  let gpu: AttentionDevice;
  beforeAll(async () => {
    gpu = await sharedDevice();
  });

  // SwiftShader compiles each shape's pipelines in seconds: configuration c runs the shapes whose
  // index is c modulo the number of configurations, so every shape runs once here (f32 and f16
  // alternate over them); the full matrix is kernel.conformance for the conformance runner.
  const configs = decodeSplitKernel.conformance.flatMap((group) => group.tiles.map((tiles) => ({ fixed: group.fixed, tiles })));
  configs.forEach(({ fixed, tiles }, c) => {
    {
      it(`matches the reference on its share of the conformance shapes (${JSON.stringify(fixed)}, tiles ${JSON.stringify(tiles)})`, async () => {
        const shapes = decodeProblem.conformanceShapes(fixed).filter((_, i) => i % configs.length === c);
        expect(shapes.length).toBeGreaterThan(0);
        for (const s of shapes) await expectMatchesReference(gpu, decodeSplitKernel, s, tiles);
      });
    }
  });

  it('refuses a block table entry outside the pool before any GPU work', async () => {
    const s = shape({ layout: 'paged', blockSize: 8 });
    const inputs = decodeProblem.inputs(s, 1);
    const table = (inputs.blockTable as Uint32Array).slice();
    table[2] = 12345;
    const error = await runKernel(gpu, { kernel: decodeSplitKernel, shape: s, inputs: { ...inputs, blockTable: table } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttentionInputError);
    expect((error as Error).message).toMatch(/blockTable\[0\]\[2\] = 12345 is outside the pool/);
  });

  it("refuses subgroup reductions wider than the adapter's subgroups, naming the limit", () => {
    const s = shape({ headDim: 128 });
    const tiles = { chunk: 256, wg: 128, lanes: 16, rows: 4, subgroups: 1, unroll: 1, stagger: 1, prefetch: 1, qregs: 0 };
    if (gpu.caps.subgroupMinSize >= 16) return expect(decodeSplitKernel.check(s, tiles, gpu.caps)).toEqual([]);
    expect(() => planRun(gpu.caps, decodeSplitKernel, s, tiles)).toThrow(ConfigError);
  });
});
