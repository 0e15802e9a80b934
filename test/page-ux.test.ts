import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, defaultConfig } from '../src/page/state/config.js';
import { LONG_RUN_S, estimateRun, formatDuration, measuredRate } from '../src/page/state/estimate.js';
import { formatBandwidth, formatFlops, unitScale } from '../src/page/state/format.js';
import { plotData } from '../src/page/state/plot-data.js';
import { SOFTWARE_PRESET, applySoftwarePreset, givenParams } from '../src/page/state/preset.js';
import { PAGE_TAG, PREVIOUS_TAG, keepPrevious, mergeRecord } from '../src/page/state/results.js';
import { speedupVerdict } from '../src/page/state/speedup.js';
import { decodeConfig } from '../src/page/state/url.js';
import { record as sampleRecord } from './helpers/records.js';

const at = (kernel: string, seq: number, medianMs: number | null, over: Parameters<typeof sampleRecord>[0] = {}) =>
  sampleRecord({ kernel, medianMs, tag: PAGE_TAG, shape: { ...sampleRecord().shape, seqQ: seq, seqK: seq }, ...over });

describe('software adapter preset', () => {
  it('shrinks every field a bare URL left to its default', () => {
    const preset = applySoftwarePreset(DEFAULT_CONFIG, givenParams(''));
    expect(preset.seqs).toEqual(SOFTWARE_PRESET.seqs);
    expect(preset.shape.heads).toBe(2);
    expect(preset.shape.headDim).toBe(32);
    expect(preset.kernels).toEqual(DEFAULT_CONFIG.kernels);
  });

  it('leaves what the link set alone', () => {
    const search = '?h=8&n=512,1024';
    const preset = applySoftwarePreset(decodeConfig(search).config, givenParams(search));
    expect(preset.seqs).toEqual([512, 1024]);
    expect(preset.shape.heads).toBe(8);
    expect(preset.shape.headDim).toBe(32);
  });

  it('never makes a shape inconsistent: decode keeps its 32 heads over 8 KV heads, only the lengths shrink', () => {
    const config = defaultConfig('decode');
    const preset = applySoftwarePreset(config, new Set(['f']));
    expect(preset.shape.heads).toBe(config.shape.heads);
    expect(preset.seqs).toEqual(SOFTWARE_PRESET.seqs);
  });

  it('applies to another family through its own fields', () => {
    const config = defaultConfig('window');
    const preset = applySoftwarePreset(config, new Set(['f']));
    expect(Math.max(...preset.seqs)).toBeLessThanOrEqual(256);
  });
});

describe('run estimate', () => {
  it('warns about the GPU-sized defaults on a software adapter, not about the preset', () => {
    const big = estimateRun(DEFAULT_CONFIG, true);
    expect(big.cases).toBe(DEFAULT_CONFIG.seqs.length * DEFAULT_CONFIG.kernels.length);
    expect(big.seconds).toBeGreaterThan(LONG_RUN_S);
    expect(big.rateSource).toBe('assumed');
    const small = estimateRun(applySoftwarePreset(DEFAULT_CONFIG, new Set()), true);
    expect(small.seconds).toBeLessThan(LONG_RUN_S);
    expect(estimateRun(DEFAULT_CONFIG, false).seconds).toBeLessThan(big.seconds);
  });

  it('uses the rate measured on this device once rows are timed', () => {
    const rows = [at('flash', 256, 1, { tflops: 1e-3 }), at('flash', 512, 1, { tflops: 3e-3 }), at('naive', 256, 1, { tflops: 2e-3 })];
    expect(measuredRate(rows, 'flash')).toBe(3e9);
    expect(measuredRate(rows, 'naive')).toBe(2e9);
    expect(measuredRate([], 'flash')).toBeNull();
    const config = { ...DEFAULT_CONFIG, kernels: ['naive', 'flash'] };
    expect(estimateRun(config, true, rows).rateSource).toBe('measured');
  });

  it('reads as a duration', () => {
    expect(formatDuration(0.2)).toBe('under a second');
    expect(formatDuration(12.4)).toBe('about 12 s');
    expect(formatDuration(330)).toBe('about 6 min');
  });
});

describe('rates with units', () => {
  it('scales FLOP/s and bytes per second to a readable prefix', () => {
    expect(formatFlops(0.0000816)).toBe('81.6 MFLOP/s');
    expect(formatFlops(12.5)).toBe('12.5 TFLOP/s');
    expect(formatFlops(null)).toBe('—');
    expect(formatBandwidth(0.5)).toBe('500 MB/s');
    expect(formatBandwidth(3200)).toBe('3.20 TB/s');
    expect(formatBandwidth(42)).toBe('42.0 GB/s');
    expect(unitScale(8.16e7).prefix).toBe('M');
    expect(unitScale(0).prefix).toBe('');
  });
});

describe('speedup colouring', () => {
  const base = at('flash', 256, 1.0, { p20Ms: 0.95, p80Ms: 1.05 });
  it('is neutral within the p20–p80 noise of both rows', () => {
    expect(speedupVerdict(at('flash', 256, 1.03, { p20Ms: 0.99, p80Ms: 1.08 }), base)).toBe('neutral');
    expect(speedupVerdict(at('flash', 256, 0.97, { p20Ms: 0.93, p80Ms: 1.0 }), base)).toBe('neutral');
  });
  it('is a win or a loss only when the ranges do not overlap', () => {
    expect(speedupVerdict(at('flash', 256, 0.8, { p20Ms: 0.78, p80Ms: 0.82 }), base)).toBe('faster');
    expect(speedupVerdict(at('flash', 256, 1.3, { p20Ms: 1.2, p80Ms: 1.4 }), base)).toBe('slower');
  });
});

describe('previous configuration after a tile edit', () => {
  it('keeps the replaced row, tagged previous, until the next edit replaces it', () => {
    let results = [at('flash', 256, 2, { tiles: { br: 32 } }), at('naive', 256, 5)];
    let previous = keepPrevious([], results, at('flash', 256, 1, { tiles: { br: 64 } }));
    results = mergeRecord(results, at('flash', 256, 1, { tiles: { br: 64 } }));
    expect(previous).toHaveLength(1);
    expect(previous[0]!.tag).toBe(PREVIOUS_TAG);
    expect(previous[0]!.tiles).toEqual({ br: 32 });
    expect(results.filter((r) => r.kernel === 'flash').map((r) => r.tiles)).toEqual([{ br: 64 }]);

    previous = keepPrevious(previous, results, at('flash', 256, 1, { tiles: { br: 16 } }));
    expect(previous.map((r) => r.tiles)).toEqual([{ br: 64 }]);
    // A re-run of the same tiles is no new "before".
    expect(keepPrevious(previous, results, at('flash', 256, 1.1, { tiles: { br: 64 } }))).toEqual(previous);
  });

  it('draws the previous rows as their own dashed series', () => {
    const config = { ...DEFAULT_CONFIG, shape: { ...DEFAULT_CONFIG.shape, heads: 4, headDim: 64 }, seqs: [256] };
    const rows = [at('flash', 256, 1, { tiles: { br: 64 } })];
    const before = [at('flash', 256, 2, { tiles: { br: 32 }, tag: PREVIOUS_TAG })];
    const data = plotData(rows, [], config, before);
    expect(data.series.map((s) => [s.label, s.previous])).toEqual([
      ['flash', false],
      ['flash (previous)', true],
    ]);
    expect(data.series[1]!.ms).toEqual([2]);
  });
});
