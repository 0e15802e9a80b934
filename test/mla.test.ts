// The MLA family (DeepSeek's latent cache, absorbed decode): shape and input checks, the float64
// reference against the decode family's on the same cache read as one KV head, the model, the
// split kernel's device checks, and the kernel against the reference on the real adapter (f32 and
// f16 caches, empty splits, mixed lengths, the default 512 + 64 widths at a short context).
import { beforeAll, describe, expect, it } from 'vitest';
import { contextLengths } from '../src/attention/decode/context.js';
import { referenceDecode } from '../src/attention/decode/reference.js';
import type { DecodeShape } from '../src/attention/decode/shape.js';
import { fromHalfArray } from '../src/attention/half.js';
import { mla } from '../src/attention/mla/index.js';
import { GARBAGE, mlaProblem } from '../src/attention/mla/problem.js';
import { referenceMla } from '../src/attention/mla/reference.js';
import type { MlaShape } from '../src/attention/mla/shape.js';
import { type MlaSplitTiles, mlaSplitGeometry, mlaSplitKernel, mlaSplitShaderCode } from '../src/attention/mla/split/kernel.js';
import { asDecodeShape, mlaRowsKernel } from '../src/attention/mla/rows/kernel.js';
import { splitShaderCode } from '../src/attention/decode/split/kernel.js';
import { type CliPlan, planFromArgs } from '../bench/cli.js';
import { getFamily } from '../src/attention/registry.js';
import { ConfigError } from '../src/errors.js';
import { defaultCaps } from '../src/gpu/caps.js';
import type { AttentionDevice } from '../src/gpu/device.js';
import { planRun } from '../src/index.js';
import { sharedDevice } from './helpers/gpu.js';
import { H200_CAPS as h200, SWIFTSHADER_CAPS as swiftshader, expectConformancePlans, expectMatchesReference } from './helpers/split-kv.js';

const shape = (raw: Record<string, unknown>): MlaShape =>
  mlaProblem.resolve({ batch: 1, heads: 16, kvLora: 32, ropeDim: 16, seqK: 100, kvType: 'f32', ...raw } as never);

describe('mla problem', () => {
  it('is a registered family with the split kernel, DeepSeek defaults and the derived scale', () => {
    expect(getFamily('mla')).toBe(mla);
    expect(mla.kernels.map((k) => k.name)).toEqual(['mla-split', 'mla-rows']);
    const s = mlaProblem.resolve({});
    expect(s).toMatchObject({ heads: 16, kvLora: 512, ropeDim: 64, seqQ: 1, kvType: 'f16' });
    expect(s.scale).toBeCloseTo(1 / Math.sqrt(192), 15);
    expect(mlaProblem.label(s)).toBe('B1 H16 Nk4096 lora512+rope64 f16 1152B/token');
    expect(mlaProblem.description).toMatch(/1152 B .* 4096 B/);
    expect(() => mlaProblem.resolve({ heads: 129 })).toThrow(/heads must be a whole number from 1 to 128/);
    expect(() => shape({ batch: 4, seqK: 20, lengths: 'mixed', seqQ: 8 })).toThrow(/shortest context holds 5/);
  });

  it('fills slots past each context with garbage and validates lengths and half infinities', () => {
    const s = shape({ batch: 3, lengths: 'mixed', kvType: 'f16' });
    const inputs = mlaProblem.inputs(s, 7);
    expect(contextLengths(s)).toEqual([34, 67, 100]);
    const kv = fromHalfArray(inputs.kv as Uint16Array);
    expect(Math.abs(kv[34 * 48]!)).toBe(GARBAGE);
    expect(Math.abs(kv[33 * 48]!)).toBeLessThanOrEqual(1);
    expect(() => mlaProblem.validate(s, inputs)).not.toThrow();
    expect(() => mlaProblem.validate(s, { ...inputs, contextLens: Uint32Array.of(34, 101, 100) })).toThrow('contextLens[1] = 101 is past seqK = 100');
    const bad = (inputs.kv as Uint16Array).slice();
    bad[5] = 0x7c00;
    expect(() => mlaProblem.validate(s, { ...inputs, kv: bad })).toThrow(/kv\[5\] is a half-precision infinity/);
  });

  it('reference equals decode attention with K = the whole row and V = its latent', () => {
    for (const kvType of ['f32', 'f16'] as const) {
      const s = shape({ heads: 3, seqK: 37, seqQ: 4, kvType });
      const inputs = mlaProblem.inputs(s, 3);
      const rows = Array.from({ length: s.heads * s.seqQ }, (_, i) => i);
      const got = referenceMla(s, inputs, rows);
      const kv = inputs.kv instanceof Uint16Array ? fromHalfArray(inputs.kv) : (inputs.kv as Float32Array);
      // Decode wants K and V of one width: V is the latent padded with zeros to 48.
      const v = kv.map((x, i) => (i % 48 < 32 ? x : 0));
      const d: DecodeShape = {
        batch: 1,
        heads: 3,
        kvHeads: 1,
        headDim: 48,
        seqK: 37,
        lengths: 'equal',
        seqQ: 4,
        kvType: 'f32',
        layout: 'contiguous',
        blockSize: 16,
        scale: s.scale,
      };
      const want = referenceDecode(d, { q: inputs.q!, k: kv, v, contextLens: inputs.contextLens! }, rows);
      for (let r = 0; r < rows.length; r++) for (let c = 0; c < 32; c++) expect(got[r * 32 + c]).toBeCloseTo(want[r * 48 + c]!, 12);
    }
  });

  it('counts FLOPs as 2·heads·(576 + 512) per token and the latent cache read once', () => {
    const s = mlaProblem.resolve({ heads: 128, seqK: 8192, kvType: 'f16' });
    expect(mlaProblem.flops(s)).toBe(2 * 128 * 8192 * (576 + 512));
    expect(mlaProblem.minimalBytes(s)).toBe(8192 * 576 * 2 + 128 * (576 + 512) * 4 + 4);
    // Causal Nq rows see len − Nq + i + 1 keys.
    const q = shape({ heads: 2, seqK: 10, seqQ: 3 });
    expect(mlaProblem.flops(q)).toBe(2 * 2 * (48 + 32) * (8 + 9 + 10));
  });

  it("takes its fields as runner flags (bench/gpu/run.sh decode's MLA line), sharing decode's where they mean the same", () => {
    const plan = planFromArgs(['--family', 'mla', '--heads', '16,128', '--seq', '8192,32768,131072', '--kv-type', 'f16']) as CliPlan;
    // Both MLA kernels at each of the 6 shapes.
    expect(plan.cases).toHaveLength(12);
    expect(new Set(plan.cases.map((c) => c.kernel))).toEqual(new Set(['mla-split', 'mla-rows']));
    expect(plan.cases.map((c) => mlaProblem.resolve(c.shape))).toContainEqual(
      expect.objectContaining({ heads: 128, seqK: 131072, kvType: 'f16', kvLora: 512 }),
    );
    const small = planFromArgs(['--family', 'mla', '--kv-lora', '256', '--rope-dim', '32', '--seq-q', '2', '--lengths', 'mixed', '--batch', '2']) as CliPlan;
    expect(small.cases[0]!.shape).toMatchObject({ kvLora: 256, ropeDim: 32, seqQ: 2, lengths: 'mixed', batch: 2 });
    expect(() => planFromArgs(['--family', 'decode', '--kv-lora', '256'])).toThrow(/--kv-lora: no selected kernel has this field/);
  });

  it('samples heads past the budget', () => {
    const s = mlaProblem.resolve({ heads: 128, seqK: 131072 });
    expect(mlaProblem.referenceCoverage!(s, 1e8)).toMatch(/^\d+ of 128 rows \(sampled heads\)$/);
    expect(mlaProblem.referenceCoverage!(shape({}), 1e8)).toBe('all 16 rows');
  });
});

describe('mla-split on an H200-like device', () => {
  it('shares each cache read across 16 heads and reads the cache once per row tile', () => {
    for (const heads of [16, 128])
      for (const kvType of ['f16', 'f32'] as const)
        for (const seqK of [8192, 131072]) {
          const s = mlaProblem.resolve({ heads, seqK, kvType });
          const tiles = mlaSplitKernel.defaultTiles(s, h200);
          const label = `H${heads} ${kvType} Nk${seqK}`;
          expect(mlaSplitKernel.check(s, tiles, h200), label).toEqual([]);
          expect(tiles.rows, label).toBe(16);
          const geo = mlaSplitGeometry(s, tiles);
          expect(geo.rowTiles, label).toBe(heads / 16);
          // The cache dominates: partials and Q add about a third at 16 heads (256-token splits).
          const ratio = mlaSplitKernel.bytesMoved(s, tiles) / mlaProblem.minimalBytes(s);
          expect(ratio, label).toBeGreaterThan(heads / 16);
          expect(ratio, label).toBeLessThan((heads / 16) * 1.5);
          expect(mlaSplitShaderCode(s, tiles)).not.toMatch(/@unroll/);
        }
  });

  it("runs every conformance group on every conformance shape, on H200 limits and on SwiftShader's", () => {
    for (const caps of [h200, swiftshader]) expectConformancePlans(mlaSplitKernel, caps);
  });

  it('refuses a configuration past workgroup memory, naming the limit, and widths that are not whole vectors', () => {
    const s = mlaProblem.resolve({ heads: 128, seqK: 4096, kvType: 'f32' });
    const big: MlaSplitTiles = { chunk: 1024, tile: 32, rows: 16, wg: 128 };
    const problems = mlaSplitKernel.check(s, big, h200);
    expect(problems.map((p) => p.limit)).toContain('maxComputeWorkgroupStorageSize');
    expect(() => planRun(h200, mlaSplitKernel, s, big)).toThrow(ConfigError);
    expect(() => planRun(h200, mlaSplitKernel, s, big)).toThrow(/maxComputeWorkgroupStorageSize is 49152 bytes/);
    // SwiftShader's 32 KiB: the default falls back to fewer rows and a shorter tile, still fits.
    const fits = mlaSplitKernel.defaultTiles(s, swiftshader);
    expect(mlaSplitKernel.check(s, fits, swiftshader)).toEqual([]);
    expect(fits.rows).toBeLessThan(16);
    // A row too wide for any configuration (even one query row and 4 tokens, 20 KiB) on WebGPU's
    // default 16 KiB is refused by name.
    const wide = mlaProblem.resolve({ kvLora: 1024, ropeDim: 256, kvType: 'f32', seqK: 64 });
    expect(() => planRun(defaultCaps(), mlaSplitKernel, wide, {})).toThrow(/maxComputeWorkgroupStorageSize is 16384 bytes/);
    const odd = shape({ ropeDim: 12, kvType: 'f16' });
    expect(mlaSplitKernel.check(odd, { chunk: 256, tile: 8, rows: 8, wg: 64 }, h200)[0]!.message).toMatch(/ropeDim must be a multiple of 8, got 12/);
  });
});

describe('mla-split on the adapter', () => {
  let gpu: AttentionDevice;
  beforeAll(async () => {
    gpu = await sharedDevice();
  });

  const check = async (s: MlaShape, tiles: Partial<MlaSplitTiles>) => {
    const result = await expectMatchesReference(gpu, mlaSplitKernel, s, tiles);
    const o = result.outputs.o as Float32Array;
    expect(o.every(Number.isFinite)).toBe(true);
  };

  for (const kvType of ['f32', 'f16'] as const) {
    it(`matches the reference at 16 heads, seqK 1, 7, 100, 257, with empty and uneven splits (${kvType})`, async () => {
      await check(shape({ seqK: 1, kvType }), {});
      await check(shape({ seqK: 7, kvType }), { chunk: 32, tile: 4, rows: 4, wg: 64 });
      await check(shape({ seqK: 100, kvType }), { chunk: 32, tile: 16, rows: 16, wg: 128 });
      // 257 = 8 chunks of 32 and one token: the last split holds a single token.
      await check(shape({ seqK: 257, kvType, ropeDim: 8 }), { chunk: 32, tile: 8, rows: 8, wg: 64 });
    });

    it(`matches the reference on a mixed batch of 3 with empty splits and causal Nq = 3 (${kvType})`, async () => {
      // Lengths 34, 67, 100 over chunks of 32: sequence 0 leaves two of four splits empty, and
      // the row that sees 32 keys finds none in the second split. The tiles of the seqK 100 case
      // above (the shader depends on tiles and widths only, so it is not compiled again; tiles of
      // 8 with 16 rows run in the default configuration, workgroups of 64 at seqK 7 and 257).
      await check(shape({ batch: 3, lengths: 'mixed', seqQ: 3, kvType }), { chunk: 32, tile: 16, rows: 16, wg: 128 });
      await check(shape({ batch: 3, lengths: 'mixed', heads: 5, kvType }), { chunk: 64, tile: 32, rows: 2, wg: 256 });
    });
  }

  it('matches the reference at the default widths (512 + 64) at a short context, f32 and f16', async () => {
    await check(mlaProblem.resolve({ heads: 16, seqK: 40, kvType: 'f16' }), {});
    // Two splits of 32 and 8 tokens.
    await check(mlaProblem.resolve({ heads: 16, seqK: 40, kvType: 'f32' }), { chunk: 32 });
  });

  it("refuses a configuration past this adapter's workgroup memory, naming the limit", () => {
    const s = mlaProblem.resolve({ heads: 16, seqK: 64, kvType: 'f32' });
    expect(() => planRun(gpu.caps, mlaSplitKernel, s, { chunk: 64, tile: 32, rows: 16, wg: 128 })).toThrow(/maxComputeWorkgroupStorageSize/);
  });
});

describe('mla-rows (MLA on decode-split)', () => {
  let gpu: AttentionDevice;
  beforeAll(async () => {
    gpu = await sharedDevice();
  });

  it("plans every conformance group on every conformance shape, on H200 limits and on SwiftShader's", () => {
    for (const caps of [h200, swiftshader]) expectConformancePlans(mlaRowsKernel, caps);
  });

  it('takes row tiles of 4 at DeepSeek widths on an H200, and reads V as the latent of the same rows', () => {
    for (const heads of [16, 128]) {
      const s = mlaProblem.resolve({ heads, seqK: 131072, kvType: 'f16' });
      const tiles = mlaRowsKernel.defaultTiles(s, h200);
      expect(tiles).toMatchObject({ rows: 4, lanes: 8, wg: 256, prefetch: 1 });
      expect(mlaRowsKernel.check(s, tiles, h200)).toEqual([]);
      const code = splitShaderCode(asDecodeShape(s), tiles, s.kvLora);
      // K rows of 576 f16 (72 vectors); P·V reads the first 64 vectors (512) of each.
      expect(code).toMatch(/const ROW_VECTORS: u32 = 72u;/);
      expect(code).toMatch(/const V_VECTORS: u32 = 64u;/);
    }
  });

  it('refuses widths that are not whole vectors and tiles that P·V cannot split, naming them', () => {
    const odd = mlaProblem.resolve({ heads: 16, seqK: 64, ropeDim: 12 });
    expect(mlaRowsKernel.check(odd, mlaRowsKernel.defaultTiles(mlaProblem.resolve({ heads: 16, seqK: 64 }), h200), h200)[0]!.message).toMatch(
      /ropeDim must be a multiple of 8, got 12/,
    );
    const s = mlaProblem.resolve({ heads: 16, seqK: 64, kvType: 'f16' });
    // 72 vectors per K row, 64 per latent: lanes 8 at wg 32 is a tile of 4 keys over 0.5 slices.
    const problems = mlaRowsKernel.check(s, { chunk: 64, wg: 32, lanes: 8, rows: 4, subgroups: 1, unroll: 1, stagger: 1, prefetch: 0, qregs: 0 }, h200);
    expect(problems.map((p) => p.message).join('\n')).toMatch(/multiple of the 64 16-byte vectors of a f16 V row of 512/);
  });

  // Configuration c runs the shapes whose index is c modulo the number of configurations, so every
  // shape runs once here (f32 and f16 alternating); the full matrix is the conformance runner's.
  const configs = mlaRowsKernel.conformance.flatMap((group) => group.tiles.map((tiles) => ({ fixed: group.fixed, tiles })));
  configs.forEach(({ fixed, tiles }, c) => {
    it(`matches the reference on its share of the conformance shapes (${JSON.stringify(fixed)}, tiles ${JSON.stringify(tiles)})`, async () => {
      const shapes = mlaProblem.conformanceShapes(fixed).filter((_, i) => i % configs.length === c);
      expect(shapes.length).toBeGreaterThan(0);
      for (const s of shapes) {
        const result = await expectMatchesReference(gpu, mlaRowsKernel, s, tiles);
        expect((result.outputs.o as Float32Array).every(Number.isFinite)).toBe(true);
      }
    });
  });

  it('matches the reference at the default widths (512 + 64: V 64 of K 72 vectors) at a short context, f16', async () => {
    // Plain loops: the written-out shader at 72 vectors a row takes SwiftShader seconds to compile.
    await expectMatchesReference(gpu, mlaRowsKernel, mlaProblem.resolve({ heads: 4, seqK: 20, kvType: 'f16' }), { unroll: 0 });
  });
});
