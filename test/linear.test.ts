// The linear family (gated linear attention, gated DeltaNet): the float64 reference against
// closed forms, and every kernel against the reference on a real adapter (SwiftShader here, where
// the f16 variants must be refused), including two chained calls equal to one long run.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { planRun } from '../src/harness/plan.js';
import { runKernel } from '../src/harness/run.js';
import { linear } from '../src/attention/linear/index.js';
import { inputValues, linearProblem } from '../src/attention/linear/problem.js';
import { referenceHeads, referenceLinear, relativeRms } from '../src/attention/linear/reference.js';
import type { LinearShape } from '../src/attention/linear/shape.js';
import { chunkedF16Kernel, chunkedKernel, chunkedShaders } from '../src/attention/linear/chunked/kernel.js';
import { recurrentF16Kernel, recurrentKernel, recurrentShader } from '../src/attention/linear/recurrent/kernel.js';
import type { AttentionDevice } from '../src/gpu/device.js';
import type { HostTensors, KernelDescriptor, Tiles } from '../src/attention/types.js';
import { sharedDevice } from './helpers/gpu.js';
import { F32_RMS_BOUND, expectLinearMatches } from './helpers/linear.js';

const shape = (raw: Record<string, unknown>) => linearProblem.resolve(raw as never);

function values(inputs: HostTensors, s: LinearShape) {
  return {
    q: inputValues(inputs, 'q'),
    k: inputValues(inputs, 'k'),
    v: inputValues(inputs, 'v'),
    g: inputValues(inputs, 'g'),
    beta: s.rule === 'delta' ? inputValues(inputs, 'beta') : undefined,
    s0: inputValues(inputs, 's0'),
  };
}

describe('linear reference', () => {
  it('GVA: value heads sharing a q/k head equal separate heads given copies of it', () => {
    // batch 2, 6 value heads over 2 q/k heads (groups of 3): value head h of sequence b reads q/k
    // head ⌊h / 3⌋ of b. Copying each q/k head to its group gives the plain multi-head problem.
    for (const rule of ['gla', 'delta'] as const) {
      const gva = shape({ rule, batch: 2, heads: 6, qkHeads: 2, seqK: 7, dk: 4, dv: 3 });
      const x = values(linearProblem.inputs(gva, 5), gva);
      const mha = shape({ rule, batch: 2, heads: 6, seqK: 7, dk: 4, dv: 3 });
      const copy = (src: Float32Array) => {
        const out = new Float32Array(2 * 6 * 7 * 4);
        for (let b = 0; b < 2; b++)
          for (let h = 0; h < 6; h++) out.set(src.subarray((b * 2 + Math.floor(h / 3)) * 28, (b * 2 + Math.floor(h / 3) + 1) * 28), (b * 6 + h) * 28);
        return out;
      };
      const want = referenceLinear(mha, { ...x, q: copy(x.q), k: copy(x.k) });
      const got = referenceLinear(gva, x);
      expect(Array.from(got.o)).toEqual(Array.from(want.o));
      expect(Array.from(got.sT)).toEqual(Array.from(want.sT));
    }
  });

  it('refuses q/k heads that do not divide the value heads, naming both', () => {
    expect(() => shape({ heads: 6, qkHeads: 4 })).toThrow(/qkHeads \(4\) must divide heads \(6\)/);
  });

  it('gla with α = 1 is causal linear attention computed directly', () => {
    const s = shape({ rule: 'gla', seqK: 9, dk: 5, dv: 3, heads: 2 });
    const inputs = linearProblem.inputs(s, 3);
    const x = { ...values(inputs, s), g: new Float32Array(2 * 9) };
    const { o } = referenceLinear(s, x);
    let worst = 0;
    for (let bh = 0; bh < 2; bh++)
      for (let t = 0; t < 9; t++)
        for (let c = 0; c < 3; c++) {
          let want = 0;
          for (let r = 0; r < 5; r++) want += x.s0[(bh * 5 + r) * 3 + c]! * x.q[(bh * 9 + t) * 5 + r]! * s.scale;
          for (let j = 0; j <= t; j++) {
            let qk = 0;
            for (let r = 0; r < 5; r++) qk += x.q[(bh * 9 + t) * 5 + r]! * x.k[(bh * 9 + j) * 5 + r]!;
            want += qk * s.scale * x.v[(bh * 9 + j) * 3 + c]!;
          }
          worst = Math.max(worst, Math.abs(want - o[(bh * 9 + t) * 3 + c]!));
        }
    expect(worst).toBeLessThan(1e-12);
  });

  it('delta with β = 0 only decays the state', () => {
    const s = shape({ rule: 'delta', seqK: 7, dk: 4, dv: 6, decay: 'strong' });
    const inputs = linearProblem.inputs(s, 5);
    const x = { ...values(inputs, s), beta: new Float32Array(s.heads * 7) };
    const { sT } = referenceLinear(s, x);
    for (let bh = 0; bh < s.heads; bh++) {
      let gsum = 0;
      for (let t = 0; t < 7; t++) gsum += x.g[bh * 7 + t]!;
      for (let e = 0; e < 24; e++) expect(sT[bh * 24 + e]).toBeCloseTo(Math.exp(gsum) * x.s0[bh * 24 + e]!, 12);
    }
  });

  it('delta with β = 1 and α = 1 writes v at a normalized key exactly', () => {
    // S ← (I − k̂k̂ᵀ)S + k̂vᵀ: afterwards Sᵀk̂ = v, the property that makes it an associative memory.
    const s = shape({ rule: 'delta', seqK: 1, dk: 8, dv: 4, heads: 1 });
    const inputs = linearProblem.inputs(s, 7);
    const x = { ...values(inputs, s), g: new Float32Array(1), beta: new Float32Array([1]) };
    const { sT } = referenceLinear(s, x);
    const norm = Math.sqrt(Array.from(x.k).reduce((a, b) => a + b * b, 0) + 1e-6);
    for (let c = 0; c < 4; c++) {
      let read = 0;
      for (let r = 0; r < 8; r++) read += sT[r * 4 + c]! * (x.k[r]! / norm);
      expect(read).toBeCloseTo(x.v[c]!, 5);
    }
  });

  it('two halves with the carried state equal one run', () => {
    for (const rule of ['gla', 'delta'] as const) {
      const s = shape({ rule, seqK: 10, dk: 4, dv: 3, heads: 1 });
      const x = values(linearProblem.inputs(s, 9), s);
      const whole = referenceLinear(s, x);
      const half = shape({ rule, seqK: 5, dk: 4, dv: 3, heads: 1 });
      const part = (from: number, s0: ArrayLike<number>) => ({
        q: x.q.subarray(from * 4, (from + 5) * 4),
        k: x.k.subarray(from * 4, (from + 5) * 4),
        v: x.v.subarray(from * 3, (from + 5) * 3),
        g: x.g.subarray(from, from + 5),
        beta: x.beta?.subarray(from, from + 5),
        s0,
      });
      const first = referenceLinear(half, part(0, x.s0));
      const second = referenceLinear(half, part(5, first.sT));
      expect(relativeRms(whole.sT, second.sT)).toBeLessThan(1e-14);
      expect(relativeRms(whole.o, [...first.o, ...second.o])).toBeLessThan(1e-14);
    }
  });

  it('samples whole heads past the budget, first and last included', () => {
    const s = shape({ batch: 2, heads: 8, seqK: 100, dk: 16, dv: 16 });
    expect(referenceHeads(s, 1e12)).toBeUndefined();
    const heads = referenceHeads(s, 3 * 100 * 16 * 16 * 4)!;
    expect(heads).toEqual([0, 8, 15]);
    const inputs = linearProblem.inputs(s, 1);
    const expected = linearProblem.reference(s, inputs, 3 * 100 * 16 * 16 * 4);
    expect(expected.o!.rows!.length).toBe(300);
    expect(expected.sT!.rows!.slice(16, 17)).toEqual([8 * 16]);
  });

  it('refuses bad gates and write strengths before any GPU work', () => {
    const s = shape({ rule: 'delta', seqK: 3, dk: 4, dv: 4, heads: 1 });
    const inputs = linearProblem.inputs(s, 1) as Record<string, Float32Array>;
    expect(() => linearProblem.validate(s, { ...inputs, g: new Float32Array([0, 0.5, 0]) })).toThrow(/g\[1\] is 0.5: the log-decay must be ≤ 0/);
    expect(() => linearProblem.validate(s, { ...inputs, beta: new Float32Array([0, 1.5, 0]) })).toThrow(/beta\[1\] is 1.5/);
    expect(() => linearProblem.validate(s, { ...inputs, q: new Float32Array(3) })).toThrow(/q has 3 elements/);
    expect(() => shape({ rule: 'mamba' })).toThrow(/rule must be one of gla, delta/);
  });
});

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

const expectMatches = (kernel: KernelDescriptor, s: LinearShape, tiles: Partial<Tiles>, inputs?: HostTensors) =>
  expectLinearMatches(gpu, kernel, s, tiles, inputs);

describe.each([recurrentKernel, chunkedKernel].map((k) => [k.name, k] as const))('%s on the adapter', (_name, kernel) => {
  // The first configuration runs every conformance shape (the chunked kernel's first of each
  // prefetch setting: pipelined and not); the others (and the groups at other d), to keep
  // SwiftShader's time down, length 1 and one past a 64-token chunk (65).
  kernel.conformance.forEach((group, g) => {
    group.tiles.forEach((tiles, n) => {
      // Every shape for the first tiles pipelined (prefetch 1) and not (0); deeper prefetch on the
      // short shapes and in the other groups.
      const prefetch = (tiles as Tiles).prefetch;
      const full = g === 0 && (prefetch ?? 0) <= 1 && group.tiles.findIndex((t) => (t as Tiles).prefetch === prefetch) === n;
      it(`matches the reference on ${full ? 'every conformance shape' : 'the short conformance shapes'}, fixed ${JSON.stringify(group.fixed)}, tiles ${JSON.stringify(tiles)}`, async () => {
        const shapes = linearProblem.conformanceShapes(group.fixed).filter((s) => full || s.seqK === 1 || s.seqK === 65);
        expect(shapes.some((s) => s.seqK === 1) && shapes.some((s) => s.rule === 'delta') && shapes.some((s) => s.rule === 'gla')).toBe(true);
        for (const s of shapes) await expectMatches(kernel, s, tiles);
      });
    });
  });

  // The chunked kernel both pipelined and not (the recurrent kernel has no prefetch: its defaults).
  // Pipelined, on this device's default tiles at d_k = 16; not, on the first unpipelined
  // conformance configuration at d_k = 32 (chunks of 16: 33 tokens end in a chunk of one), whose
  // shaders (one q/k head per value head) the conformance test above compiled: SwiftShader takes
  // seconds per shader.
  const prefetches = kernel.tunables.some((t) => t.key === 'prefetch') ? [0, 1] : [undefined];
  it.each(prefetches)('two calls with the carried state equal one long run (prefetch %s)', async (prefetch) => {
    const tiles = prefetch === undefined ? {} : prefetch === 0 ? { chunk: 16, dvt: 16, wg: 256, prefetch } : { prefetch };
    if (prefetch === 0) expect(kernel.conformance[0]!.tiles).toContainEqual(tiles);
    const d = prefetch === 0 ? 32 : 16;
    for (const rule of ['gla', 'delta'] as const) {
      const whole = shape({ rule, seqK: 66, dk: d, dv: d, heads: 2, decay: 'weak' });
      const half = shape({ ...whole, seqK: 33 });
      const inputs = linearProblem.inputs(whole, 21);
      const split = (from: number, s0: HostTensors[string]): HostTensors => {
        const cut = (name: string, width: number) => {
          const src = inputs[name] as Float32Array;
          const out = new Float32Array(2 * 33 * width);
          for (let bh = 0; bh < 2; bh++) out.set(src.subarray((bh * 66 + from) * width, (bh * 66 + from + 33) * width), bh * 33 * width);
          return out;
        };
        return { q: cut('q', d), k: cut('k', d), v: cut('v', d), g: cut('g', 1), ...(rule === 'delta' ? { beta: cut('beta', 1) } : {}), s0 };
      };
      const one = await runKernel(gpu, { kernel, shape: whole, inputs, tiles });
      const first = await expectMatches(kernel, half, tiles, split(0, inputs.s0!));
      const second = await expectMatches(kernel, half, tiles, split(33, first.outputs.sT!));
      expect(relativeRms(one.outputs.sT as Float32Array, second.outputs.sT as Float32Array)).toBeLessThan(F32_RMS_BOUND);
      const oWhole = one.outputs.o as Float32Array;
      const oSecond = second.outputs.o as Float32Array;
      for (let bh = 0; bh < 2; bh++) {
        expect(relativeRms(oWhole.subarray((bh * 66 + 33) * d, (bh + 1) * 66 * d), oSecond.subarray(bh * 33 * d, (bh + 1) * 33 * d))).toBeLessThan(
          F32_RMS_BOUND,
        );
      }
    }
  });
});

describe('linear-chunked pipelined on the adapter', () => {
  it('matches the reference over many chunks with a partial last one (T = 500: 16 and 63 chunks), both rules', async () => {
    // Two of the d_k = 32 conformance configurations (prefetch 2 reaching into the next chunk, and
    // 1), at the q/k grouping of their short shapes (2 value heads over 1 q/k head, d_v = 32): the
    // shaders compiled there run again here, over many chunks. A value tile that does not divide
    // d_v (16 over 24) is the conformance shape of length 17, for the pipelined configuration and not.
    const tiles = [
      { chunk: 32, dvt: 4, wg: 128, prefetch: 2 },
      { chunk: 8, dvt: 32, wg: 64, prefetch: 1 },
    ];
    for (const t of tiles) expect(chunkedKernel.conformance[0]!.tiles).toContainEqual(t);
    for (const rule of ['gla', 'delta'] as const)
      for (const t of tiles) await expectMatches(chunkedKernel, shape({ rule, seqK: 500, dk: 32, dv: 32, heads: 2, qkHeads: 1, decay: 'weak' }), t);
  });

  it('refuses a prefetch past the fills of a chunk, and one that would take too many registers', () => {
    const s = shape({ rule: 'delta', dk: 32, dv: 32 });
    const far = chunkedKernel.check(s, { chunk: 16, dvt: 16, wg: 256, slab: 8, prefetch: 4 }, gpu.caps);
    expect(far.map((p) => p.message)).toEqual(['prefetch 4 over the 3 staging fills of a chunk (1 q/w slabs, P, 1 k runs at chunk 16, d_k = 32)']);
    const big = chunkedKernel.check(shape({ rule: 'delta', dk: 128, dv: 32 }), { chunk: 64, dvt: 8, wg: 64, slab: 8, prefetch: 2 }, gpu.caps);
    expect(big.map((p) => p.limit)).toContain('prefetched vec4s per invocation');
    expect(big.find((p) => p.limit === 'prefetched vec4s per invocation')!.message).toBe(
      'prefetch 2 at chunk 64, workgroup 64, d_k = 128: 32 vec4s in registers per invocation (16 per fill), over 16',
    );
  });

  it('stages q and w in one slab where the workgroup memory allows, and refuses it where not', () => {
    // d_k = 128, C = 32, value tile 8: state slice, vnew and fac 5.5 KiB, 32 KiB of staging.
    const s = shape({ rule: 'delta', dk: 128, dv: 128 });
    const tiles = { chunk: 32, dvt: 8, wg: 256, slab: 32, prefetch: 1 };
    const limit = (bytes: number) => ({ ...gpu.caps, limits: { ...gpu.caps.limits, maxComputeWorkgroupStorageSize: bytes } });
    expect(chunkedKernel.check(s, tiles, limit(49152))).toEqual([]);
    expect(chunkedKernel.check(s, tiles, limit(32768)).map((p) => p.message)).toEqual([
      'chunk 32, value tile 8, q/w slab 32 vec4s at d_k = 128 (pass 2: state slice, vnew and staging) needs 38400 bytes (37.5 KiB) but maxComputeWorkgroupStorageSize is 32768 bytes (32.0 KiB)',
    ]);
    // Three fills a chunk (one slab, P, one k run of all 32 rows) instead of seven.
    expect(chunkedKernel.check(s, { ...tiles, prefetch: 4 }, limit(49152)).map((p) => p.limit)).toContain('prefetch ≤ fills per chunk');
  });
});

describe('f16 storage variants on a device without shader-f16', () => {
  it('are refused before any GPU work, naming the feature', () => {
    expect(gpu.caps.features).not.toContain('shader-f16');
    for (const kernel of [recurrentF16Kernel, chunkedF16Kernel]) {
      const s = { rule: 'delta', seqK: 65, dk: 32, dv: 32, storage: 'f16' };
      let error: unknown;
      try {
        planRun(gpu.caps, kernel, s);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).limit).toBe('feature shader-f16');
      expect((error as Error).message).toMatch(new RegExp(`${kernel.name}: needs the "shader-f16" feature`));
    }
  });

  it('are the f32 shaders with an f16 element type (the f32 twins run above)', () => {
    const s16 = shape({ rule: 'delta', seqK: 65, dk: 32, dv: 32, storage: 'f16' });
    const s32 = shape({ ...s16, storage: 'f32' });
    for (const rule of ['delta', 'gla'] as const)
      for (const prefetch of [0, 1, 2]) {
        const t = { chunk: 16, dvt: 16, wg: 256, slab: 8, prefetch };
        const [p16, p32] = [chunkedShaders({ ...s16, rule }, t), chunkedShaders({ ...s32, rule }, t)];
        for (const pass of ['prepare', 'recur'] as const) expect(p16[pass]).toBe(`enable f16;\n${p32[pass].replace('alias elem = f32;', 'alias elem = f16;')}`);
      }
    expect(recurrentShader(s16, { cols: 32, split: 4 })).toMatch(/^enable f16;\n[^]*alias elem = f16;/);
  });

  it('each variant refuses the other storage type', () => {
    const caps = { ...gpu.caps, features: [...gpu.caps.features, 'shader-f16'] };
    const s16 = shape({ storage: 'f16' });
    expect(chunkedKernel.check(s16, { chunk: 16, dvt: 16, wg: 256, slab: 8, prefetch: 1 }, caps)[0]!.message).toMatch(
      /linear-chunked reads f32 storage; this shape stores f16/,
    );
    expect(chunkedF16Kernel.check(s16, { chunk: 16, dvt: 16, wg: 256, slab: 8, prefetch: 1 }, caps)).toEqual([]);
  });
});

describe('linear kernel checks', () => {
  it('refuse tiles over the workgroup-memory limit, naming it and the numbers', () => {
    const s = shape({ rule: 'delta', dk: 128, dv: 128 });
    const problems = chunkedKernel.check(
      s,
      { chunk: 64, dvt: 64, wg: 256, slab: 8, prefetch: 0 },
      { ...gpu.caps, limits: { ...gpu.caps.limits, maxComputeWorkgroupStorageSize: 16384 } },
    );
    expect(problems.map((p) => p.limit)).toContain('maxComputeWorkgroupStorageSize');
    const messages = problems.filter((p) => p.limit === 'maxComputeWorkgroupStorageSize').map((p) => p.message);
    // Both passes over the limit, each naming its own tiles: pass 1's A and T, pass 2's state slice.
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/chunk 64 \(pass 1: A and T, C×C each, and the Gram slabs\) needs 41984 bytes/);
    expect(messages[1]).toMatch(/chunk 64, value tile 64, q\/w slab 8 vec4s at d_k = 128 \(pass 2: state slice, vnew and staging\) needs 66560 bytes/);
    expect(chunkedKernel.check(shape({ dk: 30 }), { chunk: 16, dvt: 16, wg: 256, slab: 8, prefetch: 1 }, gpu.caps).map((p) => p.message)).toContain(
      'linear-chunked loads q, k and w as vec4: d_k = 30 must be a multiple of 4 (linear-recurrent takes any d_k)',
    );
    expect(recurrentKernel.check(shape({ dk: 512 }), { cols: 32, split: 1 }, gpu.caps).map((p) => p.limit)).toContain('state rows per invocation');
  });

  it('defaults fit every conformance shape on this adapter', () => {
    for (const kernel of linear.kernels.filter((k) => k.precision === 'f32'))
      for (const s of linearProblem.conformanceShapes({})) expect(kernel.check(s, kernel.defaultTiles(s, gpu.caps), gpu.caps)).toEqual([]);
  });
});
