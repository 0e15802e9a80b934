import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, TileError, defaultCaps, getKernel, planRun, resolveShape, tileSpace } from '../src/index.js';
import { searchSpace } from '../src/attention/common.js';
import { type FlashTiles, flashGeometry, flashKernel } from '../src/attention/dense/flash/kernel.js';
import { denseProblem } from '../src/attention/dense/problem.js';
import { naiveKernel } from '../src/attention/dense/naive/kernel.js';

const shape = (over: Partial<Parameters<typeof resolveShape>[0]> = {}) =>
  resolveShape({ batch: 1, heads: 4, kvHeads: 4, seqQ: 256, seqK: 256, headDim: 64, causal: false, ...over });

const caps = defaultCaps();
/** Flash tiles with the tunables a test does not care about filled in. */
const ft = (t: Partial<FlashTiles>): FlashTiles => ({ br: 64, bc: 32, wg: 128, rowThreads: 4, subgroups: 0, prefetch: 0, unroll: 1, ...t });
const subgroupCaps = defaultCaps({ features: ['subgroups'], subgroupMinSize: 32, subgroupMaxSize: 32 });

describe('flash configuration checks', () => {
  it('names maxComputeWorkgroupStorageSize with the bytes needed and granted', () => {
    const problems = flashKernel.check(shape(), ft({ br: 128, bc: 64, wg: 256, rowThreads: 8, subgroups: 0 }), caps);
    const storage = problems.find((p) => p.limit === 'maxComputeWorkgroupStorageSize')!;
    expect(storage).toBeDefined();
    expect(storage.available).toBe(16384);
    expect(storage.requested).toBe(flashGeometry(64, ft({ br: 128, bc: 64, wg: 256, rowThreads: 8, subgroups: 0 })).workgroupBytes);
    expect(storage.message).toMatch(/needs \d+ bytes \(\d+\.\d KiB\) but maxComputeWorkgroupStorageSize is 16384 bytes \(16.0 KiB\)/);
  });

  it('counts workgroup memory as the shader declares it', () => {
    // K/V 32 keys × 16 vec4; P 32 keys × (16 row groups + 1 vec4 of padding); row partials 64×8
    // floats and scatter partials 128 lanes × 4 rows × 8 keys, both only without subgroups.
    expect(flashGeometry(64, ft({ br: 64, bc: 32, wg: 128, rowThreads: 8, subgroups: 0 })).workgroupBytes).toBe(
      32 * 16 * 16 + 32 * 17 * 16 + 64 * 8 * 4 + 128 * 4 * 8 * 4,
    );
    expect(flashGeometry(64, ft({ br: 64, bc: 32, wg: 128, rowThreads: 8, subgroups: 1 })).workgroupBytes).toBe(32 * 16 * 16 + 32 * 17 * 16);
    // One row per invocation: P still takes a vec4 per row group and key; two lanes per row pad
    // each P row by 8 / 2 vec4s.
    expect(flashGeometry(32, ft({ br: 16, bc: 8, wg: 32, rowThreads: 2, subgroups: 0 })).workgroupBytes).toBe(
      8 * 8 * 16 + 8 * 20 * 16 + 16 * 2 * 4 + 32 * 1 * 2 * 4,
    );
    // flash-f16: 8-byte P vectors, padded for 16-lane phases (16 / 8 = 2 vec4s per row).
    expect(flashGeometry(64, ft({ br: 64, bc: 32, wg: 128, rowThreads: 8, subgroups: 1 }), 8).workgroupBytes).toBe(32 * 8 * 16 + 32 * 18 * 8);
  });

  it('names maxComputeInvocationsPerWorkgroup', () => {
    const problems = flashKernel.check(shape({ headDim: 32 }), ft({ br: 64, bc: 8, wg: 512, rowThreads: 8, subgroups: 0 }), caps);
    expect(problems.find((p) => p.limit === 'maxComputeInvocationsPerWorkgroup')?.message).toBe(
      'Workgroup size 512 needs 512 but maxComputeInvocationsPerWorkgroup is 256',
    );
  });

  it('explains tile rules that do not depend on the device', () => {
    const msgs = (tiles: FlashTiles, d = 64) =>
      flashKernel
        .check(shape({ headDim: d }), tiles, caps)
        .map((p) => p.message)
        .join('\n');
    expect(msgs(ft({ br: 8, bc: 8, wg: 128, rowThreads: 4, subgroups: 0 }))).toMatch(/Br = 8 must be a multiple of wg \/ rowThreads = 32 row groups/);
    expect(msgs(ft({ br: 32, bc: 4, wg: 64, rowThreads: 8, subgroups: 0 }))).toMatch(/Bc = 4 must be a multiple of Threads per row = 8/);
    expect(msgs(ft({ br: 32, bc: 32, wg: 64, rowThreads: 16, subgroups: 0 }), 32)).toMatch(/Threads per row \(16\) must divide headDim\/4 = 8/);
    expect(msgs(ft({ br: 32, bc: 32, wg: 16, rowThreads: 32, subgroups: 0 }))).toMatch(/cannot exceed the workgroup size/);
    expect(msgs(ft({ br: 32, bc: 32, wg: 64, rowThreads: 4, subgroups: 0 }), 30)).toMatch(/headDim must be a multiple of 4, got 30/);
    expect(msgs(ft({ br: 128, bc: 128, wg: 16, rowThreads: 1, subgroups: 0 }))).toMatch(/registers, over 256/);
  });

  it('needs the subgroups feature and a large enough subgroup for subgroup reductions', () => {
    const tiles = ft({ br: 64, bc: 32, wg: 128, rowThreads: 8, subgroups: 1 });
    expect(
      flashKernel.check(shape(), tiles, defaultCaps({ limits: { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 49152 } })).map((p) => p.message),
    ).toContain('Subgroup reductions need the "subgroups" feature, which this device lacks');
    const small = defaultCaps({ features: ['subgroups'], subgroupMinSize: 4, limits: { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 49152 } });
    expect(flashKernel.check(shape(), tiles, small).map((p) => p.limit)).toEqual(['subgroupMinSize']);
  });

  it('limits query tiles per dispatch dimension', () => {
    const p = flashKernel.check(shape({ seqQ: 65536 * 4 }), ft({ br: 4, bc: 8, wg: 16, rowThreads: 4, subgroups: 0 }), caps);
    expect(p.find((x) => x.limit === 'maxComputeWorkgroupsPerDimension')?.message).toMatch(/ceil\(seqQ \/ Br\) = 65536 query tiles/);
  });

  it('has defaults that pass the check for d = 32, 64, 128 on WebGPU default limits and on a 48 KiB device', () => {
    const big = defaultCaps({
      features: ['subgroups'],
      subgroupMinSize: 32,
      limits: { ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 },
    });
    for (const c of [caps, subgroupCaps, big])
      for (const headDim of [32, 64, 128]) {
        const s = shape({ headDim });
        expect(flashKernel.check(s, flashKernel.defaultTiles(s, c), c), `d=${headDim}`).toEqual([]);
      }
  });

  it('searches its declared space, with unlisted tunables at the device default', () => {
    const defaults = flashKernel.defaultTiles(shape(), subgroupCaps);
    const space = searchSpace(flashKernel, defaults);
    expect(space).toHaveLength(5 * 4 * 3 * 3 * 3);
    expect(new Set(space.map((t) => t.prefetch))).toEqual(new Set([defaults.prefetch]));
    expect(new Set(space.map((t) => t.subgroups))).toEqual(new Set([1]));
    expect(space).toContainEqual(defaults);
    expect(searchSpace(getKernel('naive'), naiveKernel.defaultTiles(shape(), caps))).toHaveLength(6 * 6 * 6);
  });

  it('has a non-empty runnable space for the autotuner on default limits', () => {
    const runnable = tileSpace(flashKernel).filter((t) => flashKernel.check(shape(), t as FlashTiles, caps).length === 0);
    expect(runnable.length).toBeGreaterThan(20);
  });
});

describe('naive configuration checks', () => {
  it('refuses S and P larger than the maximum binding, with the numbers', () => {
    const s = shape({ heads: 16, seqQ: 4096, seqK: 4096 });
    const problems = naiveKernel.check(s, naiveKernel.defaultTiles(s, caps), caps);
    const binding = problems.find((p) => p.limit === 'maxStorageBufferBindingSize')!;
    expect(binding.requested).toBe(16 * 4096 * 4096 * 4);
    expect(binding.available).toBe(134217728);
    expect(binding.message).toMatch(
      /the S and P buffers \(B·H·Nq·Nk·4\) needs 1073741824 bytes \(1024.0 MiB\) but maxStorageBufferBindingSize is 134217728 bytes \(128.0 MiB\)/,
    );
  });

  it('reports its N² scratch and none for flash', () => {
    const s = shape();
    expect(naiveKernel.scratch(s, naiveKernel.defaultTiles(s, caps)).map((b) => b.bytes)).toEqual([4 * 256 * 256 * 4, 4 * 256 * 256 * 4]);
    expect(flashKernel.scratch(s, flashKernel.defaultTiles(s, caps))).toEqual([]);
  });
});

describe('models', () => {
  it('counts 4·d FLOPs per unmasked pair, half (plus the diagonal) when causal', () => {
    const s = shape();
    expect(denseProblem.flops(s)).toBe(4 * 64 * 4 * 256 * 256);
    expect(denseProblem.flops(shape({ causal: true }))).toBe(4 * 64 * 4 * ((256 * 257) / 2));
  });

  it('models flash traffic as Q and O once plus K and V once per query tile, fewer tiles when causal', () => {
    const s = shape({ heads: 1, kvHeads: 1 });
    const rowBytes = 64 * 4;
    expect(flashKernel.bytesMoved(s, ft({ br: 64, bc: 32 }))).toBe(2 * 256 * rowBytes + (256 / 64) * 2 * 256 * rowBytes);
    expect(flashKernel.bytesMoved(shape({ heads: 1, kvHeads: 1, causal: true }), ft({ br: 64, bc: 32 }))).toBe(
      2 * 256 * rowBytes + 2 * (64 + 128 + 192 + 256) * rowBytes,
    );
    expect(naiveKernel.bytesMoved(s, naiveKernel.defaultTiles(s, caps))).toBeGreaterThan(5 * 256 * 256 * 4);
  });
});

describe('planRun', () => {
  it('resolves defaults and refuses what the device cannot run before any GPU work', () => {
    const plan = planRun(caps, 'flash', shape());
    expect(plan.tiles).toEqual(flashKernel.defaultTiles(plan.shape, caps));
    expect(() => planRun(caps, 'flash', shape(), { br: 128, bc: 128, wg: 256, rowThreads: 8 })).toThrow(ConfigError);
    expect(() => planRun(caps, 'flash', shape(), { br: 48 })).toThrow(TileError);
    expect(() => planRun(caps, 'flash', shape(), { br: 48 })).toThrow(/Query tile \(Br\) = 48 is not one of 4, 8, 16, 32, 64, 128/);
    expect(() => planRun(caps, 'flash', shape(), { tile: 4 })).toThrow(/flash has no tile parameter "tile"/);
    expect(() => planRun(caps, 'flashy', shape())).toThrow(/unknown kernel "flashy"; known kernels: naive, flash/);
  });

  it('describes every kernel with tunables whose defaults are allowed values', () => {
    for (const name of ['naive', 'flash']) {
      const k = getKernel(name);
      const d = k.defaultTiles(shape(), caps);
      for (const t of k.tunables) expect(t.values, `${name}.${t.key}`).toContain(d[t.key]);
    }
  });
});
