// The "show why" views' pure state: roofline data and SVG, the roofline model, the KV calculator.
import { describe, expect, it } from 'vitest';
import { type Ceilings, computeRoof, intensityOf, rooflineBound, rooflineFraction, withRoofline } from '../src/index.js';
import { mlaProblem } from '../src/attention/mla/problem.js';
import { bytesPerToken as mlaBytesPerToken } from '../src/attention/mla/shape.js';
import { defaultConfig, shapeProblem } from '../src/page/state/config.js';
import { KV_PRESETS, applyPreset, bytesPerToken, kvBytes, parseContext } from '../src/page/state/kv-memory.js';
import { computeRoofs, rooflineData, rooflineSvg } from '../src/page/state/roofline.js';
import { record } from './helpers/records.js';

const ceilings: Ceilings = {
  copyGBps: 4000,
  f32Tflops: 50,
  f16Tflops: 100,
  mmaTflops: 800,
  probes: { copy: [{ bytes: 1 << 30, gbps: 4000 }], compute: { invocations: 1 << 20, chains: 32, iterations: 256 }, method: 'timestamp' },
};

describe('roofline model', () => {
  it('bounds a run by bandwidth left of the ridge and by compute right of it', () => {
    // Ridge of f32: 50 TFLOP/s ÷ 4 TB/s = 12.5 FLOP/byte.
    expect(rooflineBound(ceilings, 'f32', 1)).toBeCloseTo(4, 12);
    expect(rooflineBound(ceilings, 'f32', 100)).toBe(50);
    // f16 rows are held to the fastest f16 path measured (the matrix units here).
    expect(computeRoof(ceilings, 'f16')).toBe(800);
    expect(computeRoof({ ...ceilings, f16Tflops: undefined, mmaTflops: undefined }, 'f16')).toBe(50);
  });

  it('gives f16 rows no roof and no fraction when the file struck its matrix-unit rate out', () => {
    const struck = { ...ceilings, mmaTflops: undefined, mmaRejected: 'the probe counted dead products.' };
    expect(computeRoof(struck, 'f16')).toBeNull();
    expect(rooflineBound(struck, 'f16', 10)).toBeNull();
    expect(rooflineFraction(record({ flops: 2e9, bytes: 1e9, tflops: 2, precision: 'f16' }), struck)).toBeNull();
    // f32 rows keep theirs.
    expect(rooflineFraction(record({ flops: 2e9, bytes: 1e9, tflops: 2 }), struck)).toBeCloseTo(2 / 8, 12);
  });

  it('gives intensity from the record or its flops and bytes, and the fraction of the bound', () => {
    const r = record({ flops: 2e9, bytes: 1e9, tflops: 2 });
    expect(intensityOf(r)).toBe(2);
    expect(intensityOf({ ...r, intensity: 7 })).toBe(7);
    expect(intensityOf({ ...r, bytes: 0 })).toBeNull();
    expect(rooflineFraction(r, ceilings)).toBeCloseTo(2 / 8, 12);
    expect(rooflineFraction({ ...r, tflops: null }, ceilings)).toBeNull();
    const [withFraction, untimed] = withRoofline([r, { ...r, tflops: null }], ceilings);
    expect(withFraction!.rooflineFraction).toBeCloseTo(0.25, 12);
    expect(untimed).not.toHaveProperty('rooflineFraction');
    expect(withRoofline([r], undefined)[0]).not.toHaveProperty('rooflineFraction');
  });
});

describe('roofline chart data', () => {
  const naive = record({ kernel: 'naive', flops: 1e9, bytes: 4e8, tflops: 0.5, shape: { ...record().shape, seqQ: 512, seqK: 512 } });
  const flash = record({ kernel: 'flash', flops: 1e9, bytes: 1e7, tflops: 3 });
  const failed = record({ kernel: 'flash', status: 'failed', flops: 1e9, bytes: 1e7, tflops: 9 });

  it('puts each timed result at its intensity and TFLOP/s, labelled by the swept field', () => {
    const data = rooflineData([naive, flash, failed], null);
    expect(data.points.map((p) => [p.kernel, p.x, p.y, p.label, p.index])).toEqual([
      ['naive', 2.5, 0.5, '512', 0],
      ['flash', 100, 3, '256', 1],
    ]);
    expect(data.kernels).toEqual(['naive', 'flash']);
    expect(data.roofs).toEqual([]);
    // Each kernel's values sit at its own x and nowhere else.
    expect(data.kernelValues[0]![data.xs.indexOf(2.5)]).toBe(0.5);
    expect(data.kernelValues[1]!.filter((v) => v !== null)).toEqual([3]);
  });

  it('draws the bandwidth slope up to the top roof and each compute roof from its ridge on', () => {
    const data = rooflineData([naive, flash], ceilings);
    expect(computeRoofs(ceilings).map((r) => r.tflops)).toEqual([50, 100, 800]);
    const [slope, f32, , mma] = data.roofs;
    // Ridges at 12.5, 25 and 200 FLOP/byte are among the xs, so the kinks are exact.
    for (const ridge of [12.5, 25, 200]) expect(data.xs).toContain(ridge);
    const at = (x: number) => data.xs.indexOf(x);
    expect(slope!.values[at(2.5)]).toBeCloseTo(10, 12);
    expect(slope!.values[at(200)]).toBeCloseTo(800, 9);
    expect(slope!.values.at(-1)).toBeNull();
    expect(f32!.values[at(2.5)]).toBeNull();
    expect(f32!.values[at(12.5)]).toBe(50);
    expect(mma!.values[at(100)]).toBeNull();
    expect(data.points[0]!.fraction).toBeCloseTo(0.5 / 10, 12);
    expect(data.points[1]!.fraction).toBeCloseTo(3 / 50, 12);
  });

  it('exports an SVG with one circle per point at its coordinates', () => {
    const svg = rooflineSvg(rooflineData([naive, flash], ceilings), () => '#123456');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('data-kernel="naive" data-x="2.5" data-y="0.5"');
    expect(svg.match(/<polyline /g)).toHaveLength(4);
  });
});

describe('KV memory calculator', () => {
  const preset = (id: string) => KV_PRESETS.find((p) => p.id === id)!;

  it('counts Llama-3-8B as 128 KiB per token in f16: 16 GiB at 128K tokens, 128 GiB at 1M', () => {
    const llama = preset('llama3-8b');
    expect(bytesPerToken(llama, 'f16')).toBe(128 * 1024);
    expect(kvBytes(llama, 131072, 'f16')).toBe(16 * 2 ** 30);
    expect(kvBytes(llama, 1 << 20, 'f32')).toBe(256 * 2 ** 30);
  });

  it('caps the sliding window at 4096 tokens, keeps MLA at 576 per layer and adds DeltaNet state once', () => {
    const mistral = preset('mistral-7b');
    expect(kvBytes(mistral, 1 << 20, 'f16')).toBe(kvBytes(mistral, 4096, 'f16'));
    expect(kvBytes(mistral, 4096, 'f16')).toBe(512 * 2 ** 20);
    expect(kvBytes(preset('deepseek-v3'), 1, 'f16')).toBe(61 * 576 * 2);
    const qwen = preset('qwen3-next');
    const state = 36 * (32 * 128 * 128 + 3 * 8192);
    expect(kvBytes(qwen, 0, 'f32')).toBe(state * 4);
    expect(kvBytes(qwen, 1000, 'f16') - kvBytes(qwen, 0, 'f16')).toBe(1000 * 12 * 2 * 2 * 256 * 2);
  });

  it('fills the shown family when it has the fields, else switches to the preset family', () => {
    const dense = applyPreset(defaultConfig('dense'), preset('llama3-8b'));
    expect(dense.family).toBe('dense');
    expect(dense.shape).toMatchObject({ heads: 32, kvHeads: 8, headDim: 128 });
    const linear = applyPreset(defaultConfig('linear'), preset('qwen3-next'));
    expect(linear.shape).toMatchObject({ heads: 32, dk: 128, dv: 128 });
    const switched = applyPreset(defaultConfig('dense'), preset('mistral-7b'));
    expect(switched.family).toBe('window');
    expect(switched.shape).toMatchObject({ window: 4096, kvHeads: 8 });
  });

  it("switches DeepSeek-V3 to the mla family at its config's 128 heads, latent 512 and RoPE key 64, from any family", () => {
    const deepseek = preset('deepseek-v3');
    for (const family of ['dense', 'decode', 'linear', 'mla']) {
      const applied = applyPreset(defaultConfig(family), deepseek);
      expect(applied.family, family).toBe('mla');
      expect(applied.shape, family).toMatchObject({ heads: 128, kvLora: 512, ropeDim: 64 });
      expect(shapeProblem(applied), family).toBeNull();
    }
    // The preset's bytes per token are the mla kernel's cache row (kv_lora_rank + qk_rope_head_dim)
    // times DeepSeek-V3's 61 layers: 61 × 1152 B in f16, as its config.json gives.
    const shape = mlaProblem.resolve({ ...defaultConfig('mla').shape, heads: 128, kvLora: 512, ropeDim: 64, kvType: 'f16' });
    expect(bytesPerToken(deepseek, 'f16')).toBe(61 * mlaBytesPerToken(shape));
    expect(bytesPerToken(deepseek, 'f16')).toBe(61 * (512 + 64) * 2);
  });

  it('refuses context lengths outside 1..1M in one line', () => {
    expect(parseContext('4096')).toEqual({ value: 4096 });
    expect(parseContext('0')).toEqual({ error: 'context length must be a whole number from 1 to 1048576, got "0"' });
    expect('error' in parseContext('2e6')).toBe(true);
    expect('error' in parseContext('1.5')).toBe(true);
  });
});
