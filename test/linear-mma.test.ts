// linear-chunked-mma: SwiftShader has no subgroup matrices, so its twin built on emulated ones
// (src/wgsl/subgroup-matrix-emulation.ts, f32 storage) runs here against the float64 reference:
// every tile of every product, its offsets, strides, majors and barriers, on the conformance shapes
// and tiles of the real kernel. The real builtins run in `--conformance` on a GPU that has them.
import { beforeAll, describe, expect, it } from 'vitest';
import { runKernel } from '../src/harness/run.js';
import { planRun } from '../src/harness/plan.js';
import { ConfigError } from '../src/errors.js';
import { defaultCaps } from '../src/index.js';
import { chunkedMmaKernel, chunkedMmaShaders, makeChunkedMma } from '../src/attention/linear/chunked-mma/kernel.js';
import { linearProblem } from '../src/attention/linear/problem.js';
import { relativeRms } from '../src/attention/linear/reference.js';
import type { LinearShape } from '../src/attention/linear/shape.js';
import type { HostTensors, KernelDescriptor, Tiles } from '../src/attention/types.js';
import type { AttentionDevice } from '../src/gpu/device.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sharedDevice } from './helpers/gpu.js';
import { F32_RMS_BOUND, expectLinearMatches } from './helpers/linear.js';
import { H200_CAPS } from './helpers/split-kv.js';
import { wgslTokensText } from './helpers/mma-cases.js';

const F16_16 = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };
/** The H200's matrices (16×16×16 in subgroups of 32), emulated. */
const emulated16 = makeChunkedMma({ config: F16_16, subgroupSize: 32 });
/** Another device's shape: 8×8×8 in subgroups of 8. */
const emulated8 = makeChunkedMma({ config: { ...F16_16, M: 8, N: 8, K: 8 }, subgroupSize: 8 });

const shape = (raw: Record<string, unknown>) => linearProblem.resolve(raw as never);

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

const expectMatches = (kernel: KernelDescriptor, s: LinearShape, tiles: Partial<Tiles>, inputs?: HostTensors) =>
  expectLinearMatches(gpu, kernel, s, tiles, inputs);

/**
 * Which rules each conformance configuration runs here. SwiftShader takes 2–5 s to compile a pair
 * of these shaders, and every (rule, d_k, d_v, chunk, tiles) is a pair, so:
 *   - the first configuration runs both rules on every shape but the odd-width one (d_v = 48, three
 *     value tiles: two more pairs; the H200's conformance runs it, and two value tiles run here);
 *   - the others run one rule on the short shapes. Two run gla because their delta pass 1 exceeds
 *     SwiftShader's 32 KiB of workgroup memory with 4-byte emulated operands (57 and 32.5 KiB; 41
 *     and 24.5 KiB on the GPU with f16);
 *   - the d_k = 128 defaults run on the GPU only (on SwiftShader they are chunks of 16 and four
 *     subgroups, which the first configurations cover; d_k = 128 runs here with eight subgroups).
 */
const EMULATED_RUNS: { group: number; tiles: number; rules: ('gla' | 'delta')[] }[] = [
  { group: 0, tiles: 0, rules: ['gla', 'delta'] },
  { group: 0, tiles: 1, rules: ['delta'] },
  { group: 0, tiles: 2, rules: ['gla'] },
  { group: 1, tiles: 0, rules: ['gla'] },
  { group: 1, tiles: 1, rules: ['delta'] },
  { group: 2, tiles: 1, rules: ['delta'] },
];
/** Conformance configurations only the GPU runs (group/tiles). */
const GPU_ONLY = ['2/0'];

describe('linear-chunked-mma, emulated, on the adapter', () => {
  it('runs every conformance configuration of the real kernel but the ones named GPU-only', () => {
    const all = chunkedMmaKernel.conformance.flatMap((group, g) => group.tiles.map((_, n) => `${g}/${n}`));
    expect([...EMULATED_RUNS.map((r) => `${r.group}/${r.tiles}`), ...GPU_ONLY].sort()).toEqual(all.sort());
  });

  for (const run of EMULATED_RUNS) {
    const group = chunkedMmaKernel.conformance[run.group]!;
    const tiles = group.tiles[run.tiles]!;
    const full = run.group === 0 && run.tiles === 0;
    it(`matches the reference on ${full ? 'every conformance shape' : 'the short ones'} (${run.rules.join(', ')}), fixed ${JSON.stringify(group.fixed)}, tiles ${JSON.stringify(tiles)}`, async () => {
      const shapes = linearProblem
        .conformanceShapes({ ...group.fixed, storage: 'f32' })
        .filter((s) => run.rules.includes(s.rule) && (full ? s.dv !== group.fixed.oddDv : s.seqK === 1 || s.seqK === 65));
      expect(shapes.length).toBeGreaterThan(0);
      for (const s of shapes) await expectMatches(emulated16, s, tiles);
    });
  }

  it('matches on another matrix shape (8×8×8, subgroups of 8)', async () => {
    await expectMatches(emulated8, shape({ rule: 'delta', seqK: 41, dk: 16, dv: 24, heads: 3, qkHeads: 1, decay: 'strong' }), { chunk: 16, dvt: 8, sgs: 2 });
  });

  it('two calls with the carried state equal one long run', async () => {
    for (const rule of ['gla', 'delta'] as const) {
      const whole = shape({ rule, seqK: 66, dk: 32, dv: 32, heads: 2, decay: 'weak' });
      const half = shape({ ...whole, seqK: 33 });
      const inputs = linearProblem.inputs(whole, 21);
      const split = (from: number, s0: HostTensors[string]): HostTensors => {
        const cut = (name: string, width: number) => {
          const src = inputs[name] as Float32Array;
          const out = new Float32Array(2 * 33 * width);
          for (let bh = 0; bh < 2; bh++) out.set(src.subarray((bh * 66 + from) * width, (bh * 66 + from + 33) * width), bh * 33 * width);
          return out;
        };
        return { q: cut('q', 32), k: cut('k', 32), v: cut('v', 32), g: cut('g', 1), ...(rule === 'delta' ? { beta: cut('beta', 1) } : {}), s0 };
      };
      const tiles = { chunk: 16, dvt: 16, sgs: 1 };
      const one = await runKernel(gpu, { kernel: emulated16, shape: whole, inputs, tiles });
      const first = await expectMatches(emulated16, half, tiles, split(0, inputs.s0!));
      const second = await expectMatches(emulated16, half, tiles, split(33, first.outputs.sT!));
      expect(relativeRms(one.outputs.sT as Float32Array, second.outputs.sT as Float32Array)).toBeLessThan(F32_RMS_BOUND);
    }
  });
});

/** An H200 as Dawn reports it, with its 16×16×16 f16 → f32 matrices. */
const h200 = { ...H200_CAPS, features: [...H200_CAPS.features, 'chromium-experimental-subgroup-matrix'], subgroupMatrixConfigs: [F16_16] };

describe('linear-chunked-mma on a device', () => {
  const f16 = (raw: Record<string, unknown>) => shape({ storage: 'f16', ...raw });

  it('is refused without subgroup matrices, naming the feature', () => {
    const s = f16({ rule: 'delta', seqK: 64, dk: 32, dv: 32 });
    expect(() => planRun(defaultCaps({ features: ['shader-f16'] }), 'linear-chunked-mma', s)).toThrow(ConfigError);
    expect(() => planRun(defaultCaps({ features: ['shader-f16'] }), 'linear-chunked-mma', s)).toThrow(/chromium-experimental-subgroup-matrix/);
  });

  it('defaults fit the H200 at the benchmark shapes and every conformance shape', () => {
    for (const rule of ['gla', 'delta'] as const) {
      const s = f16({ rule, seqK: 16384, heads: 16, dk: 128, dv: 128 });
      const tiles = chunkedMmaKernel.defaultTiles(s, h200);
      expect(chunkedMmaKernel.check(s, tiles, h200)).toEqual([]);
      expect(tiles.chunk).toBe(rule === 'delta' ? 32 : 64);
    }
    for (const group of chunkedMmaKernel.conformance)
      for (const s of linearProblem.conformanceShapes(group.fixed))
        for (const tiles of group.tiles) expect(chunkedMmaKernel.check(s, { ...chunkedMmaKernel.defaultTiles(s, h200), ...tiles }, h200)).toEqual([]);
  });

  it('refuses dims and tiles off the matrix size, and workgroup memory over the limit, naming the numbers', () => {
    const s = f16({ rule: 'delta', seqK: 100, dk: 40, dv: 48 });
    const limits = (t: object, sh = s) => chunkedMmaKernel.check(sh, { chunk: 32, dvt: 16, sgs: 4, ...t }, h200).map((p) => p.message);
    expect(limits({})).toEqual(['linear-chunked-mma: d_k = 40 must be a multiple of the matrix size 16 (linear-chunked-f16 takes any multiple of 4)']);
    const ok = f16({ rule: 'delta', seqK: 100, dk: 128, dv: 48 });
    expect(limits({ chunk: 8 }, ok)).toEqual(['linear-chunked-mma: chunk = 8 must be a multiple of the matrix size 16']);
    expect(limits({ dvt: 32 }, ok)).toEqual(['linear-chunked-mma: value tile 32 does not divide d_v = 48']);
    // Delta at C = 64 and d_k = 128: q and k staged (32 KiB) beside A (16 KiB) and T in f16.
    expect(limits({ chunk: 64 }, ok)).toEqual([
      expect.stringMatching(
        /chunk 64 at d_k = 128, d_v = 48 \(pass 1: q and k staged, A, T and −w\) needs \d+ bytes .* maxComputeWorkgroupStorageSize is 49152/,
      ),
    ]);
  });

  it('builds WGSL with the real builtins, and the emulated twin from the same text', () => {
    const s = f16({ rule: 'delta', seqK: 100, dk: 64, dv: 64 });
    const units = { config: F16_16, subgroupSize: 32, emulate: false };
    const real = chunkedMmaShaders(s, { chunk: 32, dvt: 16, sgs: 4 }, units);
    for (const code of [real.prepare, real.recur]) {
      expect(code).toMatch(/^enable f16;/);
      expect(code).toMatch(/subgroupMatrixMultiplyAccumulate/);
      expect(code).not.toMatch(/emu_/);
    }
    const emulated = chunkedMmaShaders({ ...s, storage: 'f32' }, { chunk: 32, dvt: 16, sgs: 4 }, { ...units, emulate: true });
    expect(emulated.recur).not.toMatch(/subgroup_matrix|subgroupMatrix|enable/);
  });

  // The configurations the H200 timed (bench/results/h200-slowlease-linear-mma*.json, commit
  // 444e388): their token streams (comments and blankspace aside) are pinned, so the figures in the
  // README and docs/kernels.md describe the shader that builds today.
  it('builds the measured shaders unchanged', () => {
    const fixture = JSON.parse(readFileSync(new URL('./fixtures/linear-mma-wgsl.json', import.meta.url), 'utf8')) as Record<string, string>;
    const units = { config: F16_16, subgroupSize: 32, emulate: false };
    const got: Record<string, string> = {};
    for (const [rule, chunk] of [
      ['delta', 32],
      ['gla', 64],
    ] as const)
      for (const sgs of [2, 4, 8]) {
        const s = f16({ rule, seqK: 16384, heads: 16, dk: 128, dv: 128 });
        const code = chunkedMmaShaders(s, { chunk, dvt: 16, sgs }, units);
        for (const [pass, text] of Object.entries(code))
          got[`${rule} chunk${chunk} dvt16 sgs${sgs} ${pass}`] = createHash('sha256').update(wgslTokensText(text)).digest('hex');
      }
    expect(got).toEqual(fixture);
  });
});
