// window-flash-mma: sliding-window attention with sinks on subgroup matrices. It cannot run on
// SwiftShader (no cooperative matrices, no f16): `npm run bench -- --conformance --kernels
// window-flash-mma` checks it on GPUs that have them. Here: its descriptor is flash-mma's on the
// window problem (a window shape is a dense causal shape), its WGSL is flash_mma.wgsl with the
// window's key-tile hooks (window_tiles.wgsl, as window-flash composes flash.wgsl), and that WGSL,
// its matrix intrinsics stubbed, compiles on the adapter.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import type { AttentionDevice } from '../src/gpu/device.js';
import { planRun } from '../src/harness/plan.js';
import { getFamily, getKernel } from '../src/attention/registry.js';
import { type MmaTiles, flashMmaKernel, mmaGeometry, mmaShaderCode } from '../src/attention/dense/flash-mma/kernel.js';
import { resolveShape } from '../src/attention/dense/shape.js';
import { windowFlashMmaKernel, windowMmaShaderCode } from '../src/attention/window/flash-mma/kernel.js';
import { windowFlashBytesMoved } from '../src/attention/window/flash/kernel.js';
import { windowProblem } from '../src/attention/window/problem.js';
import type { WindowShape } from '../src/attention/window/shape.js';
import maskCausal from '../src/attention/dense/flash/mask_causal.wgsl?raw';
import windowTiles from '../src/attention/window/flash/window_tiles.wgsl?raw';
import { MMA_DEVICES, stubSubgroupMatrices, wgslTokensText } from './helpers/mma-cases.js';
import { sharedDevice } from './helpers/gpu.js';

const h100 = MMA_DEVICES.m16n16k16sg32!;
const F16_16 = h100.subgroupMatrixConfigs[0]!;
/** The dense causal shape a window shape is. */
const dense = (s: WindowShape) =>
  resolveShape({ batch: s.batch, heads: s.heads, kvHeads: s.kvHeads, seqQ: s.seqQ, seqK: s.seqK, headDim: s.headDim, causal: true });

/** Every flash-mma conformance configuration, over the defaults of its head dim on the H100. */
function conformanceTiles(): [number, MmaTiles][] {
  return windowFlashMmaKernel.conformance.flatMap((group) => {
    const headDim = group.fixed.headDim as number;
    const defaults = windowFlashMmaKernel.defaultTiles(windowProblem.resolve({ seqK: 4096, headDim }), h100);
    return group.tiles.map((given) => [headDim, { ...defaults, ...given }] as [number, MmaTiles]);
  });
}

describe('window-flash-mma descriptor', () => {
  it('is registered in the window family', () => {
    expect(getKernel('window-flash-mma')).toBe(windowFlashMmaKernel);
    expect(getFamily('window').kernels).toContain(windowFlashMmaKernel);
    expect(windowFlashMmaKernel.problem).toBe(windowProblem);
    expect(windowFlashMmaKernel.precision).toBe('f16');
  });

  it('is refused without the subgroup-matrix feature, naming it', () => {
    const caps = { ...h100, features: ['shader-f16', 'subgroups'] };
    const raw = { seqK: 300, headDim: 64, window: 64, sinks: 4 };
    expect(() => planRun(caps, 'window-flash-mma', raw)).toThrow(ConfigError);
    expect(() => planRun(caps, 'window-flash-mma', raw)).toThrow(/window-flash-mma: needs the "chromium-experimental-subgroup-matrix" feature/);
    expect(planRun(h100, 'window-flash-mma', raw).tiles).toEqual(flashMmaKernel.defaultTiles(dense(windowProblem.resolve(raw)), h100));
  });

  it("takes flash-mma's features, tunables, conformance tiles, defaults and checks for the same dense causal shape", () => {
    expect(windowFlashMmaKernel.requiredFeatures).toEqual(flashMmaKernel.requiredFeatures);
    expect(windowFlashMmaKernel.tunables).toBe(flashMmaKernel.tunables);
    expect(windowFlashMmaKernel.conformance).toBe(flashMmaKernel.conformance);
    expect(windowFlashMmaKernel.tolerance).toBe(flashMmaKernel.tolerance);
    const shapes = [
      ...windowProblem.conformanceShapes({ headDim: 64 }),
      windowProblem.resolve({ seqK: 131072, heads: 16, headDim: 128, window: 4096, sinks: 4 }),
      windowProblem.resolve({ seqK: 1000, headDim: 40, window: 10, sinks: 0 }),
    ];
    for (const [device, caps] of Object.entries(MMA_DEVICES)) {
      for (const s of shapes) {
        const d = dense(s);
        expect(windowFlashMmaKernel.defaultTiles(s, caps), `${device} ${windowProblem.label(s)}`).toEqual(flashMmaKernel.defaultTiles(d, caps));
        // Refusals too (d = 128 with Bc = 64 is over 48 KiB, Bc = 128 with two row blocks spills).
        for (const tiles of [...conformanceTiles().map(([, t]) => t), { sgs: 4, rowBlocks: 1, bc: 64 }, { sgs: 4, rowBlocks: 2, bc: 128 }]) {
          expect(windowFlashMmaKernel.check(s, tiles, caps)).toEqual(flashMmaKernel.check(d, tiles, caps));
        }
      }
    }
  });

  it("moves the window kernels' bytes with the mma tile rows; with a window past N and no sinks, flash-mma's causal bytes", () => {
    const s = windowProblem.resolve({ seqK: 8192, heads: 4, headDim: 64, window: 512, sinks: 4 });
    const tiles = { sgs: 8, rowBlocks: 2, bc: 32 };
    expect(windowFlashMmaKernel.bytesMoved(s, tiles)).toBe(windowFlashBytesMoved(s, 8 * 2 * 16, 32, 2));
    expect(windowFlashMmaKernel.bytesMoved(s, tiles)).toBeLessThan(flashMmaKernel.bytesMoved(dense(s), tiles) / 3);
    for (const raw of [
      { seqQ: 100, seqK: 100 },
      { seqQ: 37, seqK: 1000 },
      { seqQ: 300, seqK: 129 },
    ]) {
      const wide = windowProblem.resolve({ ...raw, headDim: 32, window: 1 << 20, sinks: 0 });
      for (const [, t] of conformanceTiles()) expect(windowFlashMmaKernel.bytesMoved(wide, t)).toBe(flashMmaKernel.bytesMoved(dense(wide), t));
    }
  });
});

describe('window-flash-mma WGSL', () => {
  it("is flash_mma.wgsl through the key-tile hooks with window_tiles.wgsl: the dense hooks' module but for that file", () => {
    for (const [headDim, tiles] of conformanceTiles()) {
      const label = `d=${headDim} ${JSON.stringify(tiles)}`;
      const geo = mmaGeometry(headDim, tiles, F16_16, 32);
      const code = windowMmaShaderCode(headDim, tiles, F16_16, 32);
      expect(code, label).toContain(windowTiles);
      expect(code).toContain('@group(0) @binding(5) var<uniform> wp: WindowParams;');
      expect(code).toContain('let item = flash_work_item(wid);');
      expect(code).toContain('let key_set = key_tiles(row0, row_end);');
      expect(code).toContain('var staged_k = fetch_kv_tile(true, kv_base, key_tile_start(key_set, 0u), lid);');
      expect(code).toContain('let k0 = key_tile_start(key_set, t);');
      expect(code).toContain('let k_next = key_tile_start(key_set, t + 1u);');
      expect(code).toContain('let mask_tile = tile_needs_mask(k0, row0, row_end - 1u);');
      expect(code).toContain('let hidden = vec4<bool>(key_hidden(key0, limit), key_hidden(key0 + 1u, limit)');
      // Nothing of the dense inline loop or its causal mask, nor params.wgsl's causal grid order.
      expect(wgslTokensText(code)).not.toMatch(/p\.causal !=|t \* BC|k0 \+ BC, lid|work_item\(wid, BR\)|@if|@else|@endif|@unroll/);
      expect(code).toMatch(/fn flash_work_item\(wid: vec3<u32>\) -> vec3<u32> \{\s*return wid;\s*\}/);
      expect(code).toMatch(new RegExp(`const SUBGROUPS: u32 = ${tiles.sgs}u;`));
      // Window and dense-through-the-hooks differ by the key-tile file alone.
      const hooked = mmaShaderCode(headDim, tiles, F16_16, geo, maskCausal);
      expect(code.replace(windowTiles, '')).toBe(hooked.replace(maskCausal, ''));
      // Directives before every declaration.
      const firstDeclaration = code.indexOf('struct Params');
      expect(code.indexOf('enable chromium_experimental_subgroup_matrix;')).toBeLessThan(firstDeclaration);
      expect(code.indexOf('diagnostic(off, chromium.subgroup_matrix_uniformity);')).toBeLessThan(firstDeclaration);
    }
  });
});

// ---------------------------------------------------------------- GPU (compile only)

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

async function compileErrors(code: string): Promise<string[]> {
  const module = gpu.device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  return info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
}

describe('window-flash-mma WGSL on the adapter, subgroup matrices stubbed', () => {
  it('compiles for every conformance configuration on every matrix shape (window, dense, dense through the hooks)', async () => {
    expect(gpu.caps.features).not.toContain('chromium-experimental-subgroup-matrix');
    for (const [device, caps] of Object.entries(MMA_DEVICES)) {
      const config = caps.subgroupMatrixConfigs[0]!;
      for (const [headDim, tiles] of conformanceTiles()) {
        if (flashMmaKernel.check(resolveShape({ batch: 1, heads: 1, kvHeads: 1, seqQ: 64, seqK: 64, headDim, causal: true }), tiles, caps).length > 0) continue;
        const geo = mmaGeometry(headDim, tiles, config, caps.subgroupMaxSize);
        const label = `${device} d=${headDim} ${JSON.stringify(tiles)}`;
        expect(await compileErrors(stubSubgroupMatrices(windowMmaShaderCode(headDim, tiles, config, caps.subgroupMaxSize))), `window ${label}`).toEqual([]);
        expect(await compileErrors(stubSubgroupMatrices(mmaShaderCode(headDim, tiles, config, geo))), `dense ${label}`).toEqual([]);
        expect(await compileErrors(stubSubgroupMatrices(mmaShaderCode(headDim, tiles, config, geo, maskCausal))), `hooks ${label}`).toEqual([]);
      }
    }
  });

  it("makes a pipeline whose bindings are the flash kernels' plus the window uniform at 5 (a small tile: within 32 KiB once f16 is f32)", async () => {
    const tiles = { sgs: 4, rowBlocks: 1, bc: 16 };
    const module = gpu.device.createShaderModule({ code: stubSubgroupMatrices(windowMmaShaderCode(32, tiles, F16_16, 32)) });
    const pipeline = await gpu.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const uniform = () => gpu.device.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM });
    const storage = () => gpu.device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE });
    const buffers = [uniform(), storage(), storage(), storage(), storage(), uniform()];
    gpu.device.pushErrorScope('validation');
    gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const error = await gpu.device.popErrorScope();
    for (const b of buffers) b.destroy();
    expect(error?.message).toBeUndefined();
  });

  it('the stub check catches a broken hook (a check of the check)', async () => {
    const code = windowMmaShaderCode(32, { sgs: 4, rowBlocks: 1, bc: 16 }, F16_16, 32);
    const broken = code.replace('let mask_tile = tile_needs_mask(k0, row0, row_end - 1u);', 'let mask_tile = tile_needs_mask(k0, row0);');
    expect(broken).not.toBe(code);
    expect((await compileErrors(stubSubgroupMatrices(broken))).join('\n')).toMatch(/tile_needs_mask/);
  });
});
