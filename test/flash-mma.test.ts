// The subgroup-matrix kernel's pure side: which devices and configurations it accepts, its
// workgroup-memory model, and the WGSL it generates. It cannot run on SwiftShader (no cooperative
// matrices): `npm run bench -- --conformance --kernels flash-mma` checks it on GPUs that have them.
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, defaultCaps, planRun, resolveShape } from '../src/index.js';
import { type MmaTiles, flashMmaKernel, mmaConfig, mmaGeometry, mmaShaderCode } from '../src/attention/dense/flash-mma/kernel.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mmaCases, wgslTokensText } from './helpers/mma-cases.js';

const F16_16 = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };
// What Dawn reports on an H100 (Vulkan): 48 KiB of workgroup memory, subgroups of 32.
const h100 = defaultCaps({
  features: ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'],
  subgroupMinSize: 32,
  subgroupMaxSize: 32,
  limits: { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 },
  subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 }, F16_16],
});
const shape = (headDim: number, over = {}) => resolveShape({ batch: 1, heads: 2, kvHeads: 2, seqQ: 100, seqK: 100, headDim, causal: false, ...over });

describe('flash-mma on a device', () => {
  it('takes the first f16 → f32 matrix shape', () => {
    expect(mmaConfig(h100)).toEqual(F16_16);
    expect(mmaConfig({ ...h100, subgroupMatrixConfigs: [] })).toBeUndefined();
  });

  it('is refused without the subgroup-matrix feature, naming it', () => {
    const caps = { ...h100, features: ['shader-f16', 'subgroups'] };
    expect(() => planRun(caps, 'flash-mma', shape(64))).toThrow(ConfigError);
    expect(() => planRun(caps, 'flash-mma', shape(64))).toThrow(/needs the "chromium-experimental-subgroup-matrix" feature/);
  });

  it('is refused when no configuration has f16 operands and an f32 result, listing what there is', () => {
    const caps = { ...h100, subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 }] };
    const problems = flashMmaKernel.check(shape(64), { sgs: 4, rowBlocks: 1, bc: 64 }, caps);
    expect(problems.map((p) => p.limit)).toEqual(['subgroupMatrixConfigs (f16 → f32)']);
    expect(problems[0]!.message).toMatch(/offers f16→f16 16×16×16/);
  });

  it('is refused when the subgroup size varies', () => {
    const problems = flashMmaKernel.check(shape(64), { sgs: 4, rowBlocks: 1, bc: 64 }, { ...h100, subgroupMinSize: 8 });
    expect(problems[0]!.limit).toBe('subgroupMinSize = subgroupMaxSize');
    expect(problems[0]!.message).toMatch(/vary from 8 to 32/);
  });

  it('refuses head dims and key tiles the matrix shape does not divide', () => {
    expect(flashMmaKernel.check(shape(40), { sgs: 4, rowBlocks: 1, bc: 64 }, h100).map((p) => p.limit)).toEqual(['headDim % lcm(8, K, N)']);
    const eight = { ...h100, subgroupMatrixConfigs: [{ ...F16_16, M: 8, N: 8, K: 8 }], subgroupMinSize: 8, subgroupMaxSize: 8 };
    expect(flashMmaKernel.check(shape(40), { sgs: 4, rowBlocks: 1, bc: 16 }, eight)).toEqual([]);
  });

  it('defaults to configurations that fit, and counts workgroup memory as the shader declares it', () => {
    for (const d of [32, 64, 128]) {
      const tiles = flashMmaKernel.defaultTiles(shape(d), h100);
      expect(flashMmaKernel.check(shape(d), tiles, h100)).toEqual([]);
    }
    // d = 64, 4 subgroups × 16 rows, Bc = 64: K and V 64 × 72 f16, P 64 × 72 f16, S 64 × 68 f32,
    // four flags.
    const geo = mmaGeometry(64, { sgs: 4, rowBlocks: 1, bc: 64 }, F16_16, 32);
    expect(geo.br).toBe(64);
    expect(geo.workgroupBytes).toBe((2 * 64 * 72 + 64 * 72) * 2 + 64 * 68 * 4 + 16);
    // At d = 128 the same tiles need 61 KiB: over an H100's 48, and the message says what is in it.
    const problems = flashMmaKernel.check(shape(128), { sgs: 4, rowBlocks: 1, bc: 64 }, h100);
    expect(problems.map((p) => p.limit)).toEqual(['maxComputeWorkgroupStorageSize']);
    expect(problems[0]!.message).toMatch(/Br = 64 \(4 subgroups × 1 × 16 rows\), Bc = 64 at d = 128 \(K\/V tiles, S and P\)/);
  });

  it('refuses configurations that would spill registers', () => {
    const problems = flashMmaKernel.check(shape(128), { sgs: 4, rowBlocks: 2, bc: 128 }, h100);
    expect(problems.map((p) => p.limit)).toContain('registers per invocation');
  });
});

describe('flash-mma WGSL', () => {
  it('specializes every conformance configuration with all unrolled bounds asserted', () => {
    for (const group of flashMmaKernel.conformance) {
      const headDim = group.fixed.headDim as number;
      const d = headDim;
      for (const given of group.tiles) {
        const tiles: MmaTiles = { ...flashMmaKernel.defaultTiles(shape(headDim), h100), ...given };
        expect(flashMmaKernel.check(shape(headDim), tiles, h100), `d=${d} ${JSON.stringify(tiles)}`).toEqual([]);
        const geo = mmaGeometry(headDim, tiles, F16_16, 32);
        const code = mmaShaderCode(headDim, tiles, F16_16, geo);
        expect(code).not.toMatch(/@unroll/);
        expect(code).toMatch(new RegExp(`const SUBGROUPS: u32 = ${tiles.sgs}u;`));
        expect(code).toMatch(new RegExp(`const_assert KEY_BLOCKS == ${tiles.bc / 16}u;`));
        // Directives (enable, diagnostic) come before every declaration.
        const firstDeclaration = code.indexOf('struct Params');
        expect(code.indexOf('enable chromium_experimental_subgroup_matrix;')).toBeLessThan(firstDeclaration);
        expect(code.indexOf('diagnostic(off, chromium.subgroup_matrix_uniformity);')).toBeLessThan(firstDeclaration);
      }
    }
  });

  // flash_mma.wgsl also serves window-flash-mma (its `@if hooks` side): the dense side must stay the
  // code that was measured. The fixture holds the SHA-256 of each configuration's token text
  // (comments and blankspace normalized) as generated before the hooks were added; a change to the
  // dense code must be measured on the GPU (bench/gpu/run.sh) before the fixture is regenerated.
  it('dense WGSL keeps its tokens: every conformance and default configuration, three matrix shapes', () => {
    const fixture = JSON.parse(readFileSync(new URL('./fixtures/flash-mma-wgsl.json', import.meta.url), 'utf8')) as Record<string, string>;
    const cases = mmaCases();
    expect(cases.map((c) => c.key).sort()).toEqual(Object.keys(fixture).sort());
    for (const c of cases) {
      const code = c.code();
      expect(createHash('sha256').update(wgslTokensText(code)).digest('hex'), c.key).toBe(fixture[c.key]);
      expect(wgslTokensText(code)).not.toMatch(/key_tiles|key_tile_start|tile_needs_mask|key_hidden|flash_work_item|@binding\(5\)/);
    }
  });

  it('token text drops comments and blankspace only', () => {
    expect(wgslTokensText('a  =\n b; // x = 1\n/* c /* nested */ d */ let  y = 2;')).toBe('a = b; let y = 2;');
    expect(wgslTokensText('x=1')).not.toBe(wgslTokensText('x = 1'));
  });
});
