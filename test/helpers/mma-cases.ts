// Dense flash-mma configurations and WGSL tools for the subgroup-matrix tests (flash-mma.test.ts,
// window-mma.test.ts). mmaCases: the configurations whose generated WGSL flash-mma.test.ts pins to
// test/fixtures/flash-mma-wgsl.json: every conformance configuration and the defaults at each
// conformance head dim, causal or not, on three matrix shapes (NVIDIA's 16×16×16 in subgroups of 32,
// 8×16×16 in subgroups of 16 as on Intel, 8×8×8 in subgroups of 8).
import { DEFAULT_LIMITS, defaultCaps, resolveShape } from '../../src/index.js';
import type { DeviceCaps, SubgroupMatrixConfig } from '../../src/gpu/caps.js';
import { type MmaTiles, flashMmaKernel, mmaConfig, mmaGeometry, mmaShaderCode } from '../../src/attention/dense/flash-mma/kernel.js';

const matrixCaps = (M: number, N: number, K: number, subgroup: number): DeviceCaps =>
  defaultCaps({
    features: ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'],
    subgroupMinSize: subgroup,
    subgroupMaxSize: subgroup,
    limits: { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 },
    subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f32', M, N, K }],
  });

export const MMA_DEVICES: Record<string, DeviceCaps> = {
  m16n16k16sg32: matrixCaps(16, 16, 16, 32),
  m8n16k16sg16: matrixCaps(8, 16, 16, 16),
  m8n8k8sg8: matrixCaps(8, 8, 8, 8),
};

export interface MmaCase {
  key: string;
  headDim: number;
  tiles: MmaTiles;
  caps: DeviceCaps;
  config: SubgroupMatrixConfig;
  /** The dense kernel's WGSL for this case. */
  code(): string;
}

/** Distinct (device, head dim, tiles) cases; configurations a device refuses are left out. */
export function mmaCases(): MmaCase[] {
  const cases = new Map<string, MmaCase>();
  for (const [device, caps] of Object.entries(MMA_DEVICES)) {
    const config = mmaConfig(caps)!;
    for (const group of flashMmaKernel.conformance) {
      const headDim = group.fixed.headDim as number;
      for (const causal of [false, true]) {
        const s = resolveShape({ batch: 1, heads: 2, kvHeads: 2, seqQ: 100, seqK: 100, headDim, causal });
        const defaults = flashMmaKernel.defaultTiles(s, caps);
        for (const given of [{}, ...group.tiles]) {
          const tiles: MmaTiles = { ...defaults, ...given };
          if (flashMmaKernel.check(s, tiles, caps).length > 0) continue;
          const key = `${device} d${headDim} sgs${tiles.sgs} rb${tiles.rowBlocks} bc${tiles.bc}`;
          const geo = mmaGeometry(headDim, tiles, config, caps.subgroupMaxSize);
          cases.set(key, { key, headDim, tiles, caps, config, code: () => mmaShaderCode(headDim, tiles, config, geo) });
        }
      }
    }
  }
  return [...cases.values()];
}

/**
 * WGSL with its comments and whitespace normalized: comments (line and nested block) become one
 * space, every run of blankspace one space. WGSL has no string literals and its tokenizer treats
 * comments and any run of blankspace alike, so two modules with the same normalized text have the
 * same token stream (the converse need not hold: `a=b` and `a = b` differ here).
 */
export function wgslTokensText(code: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    if (depth === 0 && code.startsWith('//', i)) {
      while (i < code.length && code[i] !== '\n') i++;
      out += ' ';
      continue;
    }
    if (code.startsWith('/*', i)) {
      depth++;
      i++;
      continue;
    }
    if (depth > 0 && code.startsWith('*/', i)) {
      depth--;
      i++;
      if (depth === 0) out += ' ';
      continue;
    }
    if (depth === 0) out += code[i];
  }
  return out.replace(/\s+/g, ' ').trim();
}

/**
 * A flash_mma.wgsl module rewritten for an adapter without f16 or subgroup matrices (SwiftShader),
 * for a compile check of everything but the matrix intrinsics: f16 becomes f32 (its packed pairs
 * unpacked with unpack2x16float), each subgroup-matrix type a one-value struct, and the loads,
 * stores and multiply-adds functions on those. What the check covers: names, types, the key-tile
 * hooks' signatures, the extra uniform and the uniformity of every barrier. What it does not: the
 * matrix builtins' own rules (shapes, layouts, the chromium extension), which only a GPU that has
 * them checks (`--conformance`).
 */
export function stubSubgroupMatrices(code: string): string {
  const out = code
    .replace(/^enable f16;$/m, '')
    .replace(/^enable chromium_experimental_subgroup_matrix;$/m, '')
    .replace(/^diagnostic\(off, chromium\.subgroup_matrix_uniformity\);$/m, '')
    .replace(/bitcast<vec2<f16>>\(/g, 'unpack2x16float(')
    .replace(/subgroup_matrix_(left|right|result)<[^>]*>/g, (_, kind: string) => `Sm${kind[0]!.toUpperCase()}${kind.slice(1)}`)
    .replace(/subgroupMatrixLoad<Sm(\w+), (?:row|col)_major>\(/g, 'sm_load_$1(')
    .replace(/subgroupMatrixStore<(?:row|col)_major>\(/g, 'sm_store(')
    .replace(/subgroupMatrixMultiplyAccumulate\(/g, 'sm_mma(')
    .replace(/\bf16\b/g, 'f32');
  return `${out}
struct SmLeft { x: f32 }
struct SmRight { x: f32 }
struct SmResult { x: f32 }
fn sm_load_Left(m: ptr<workgroup, array<f32, H_SIZE>>, at: u32, stride: u32) -> SmLeft { return SmLeft((*m)[at + stride]); }
fn sm_load_Right(m: ptr<workgroup, array<f32, H_SIZE>>, at: u32, stride: u32) -> SmRight { return SmRight((*m)[at + stride]); }
fn sm_load_Result(m: ptr<workgroup, array<f32, BR * S_STRIDE>>, at: u32, stride: u32) -> SmResult { return SmResult((*m)[at + stride]); }
fn sm_store(m: ptr<workgroup, array<f32, BR * S_STRIDE>>, at: u32, v: SmResult, stride: u32) { (*m)[at + stride] = v.x; }
fn sm_mma(a: SmLeft, b: SmRight, c: SmResult) -> SmResult { return SmResult(fma(a.x, b.x, c.x)); }
`;
}
