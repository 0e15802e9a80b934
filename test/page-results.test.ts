import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/page/state/config.js';
import { formatRatio, matchBaseline, unmatchedBaseline } from '../src/results/baseline.js';
import { loglogSlope, plotData } from '../src/page/state/plot-data.js';
import { AUTOTUNE_FINAL_TAG, PAGE_TAG, mergeRecord, sortForDisplay } from '../src/page/state/results.js';
import { BASELINE_KEY, RESULTS_KEY, type KeyValueStore, loadStored, saveBaseline, saveResults } from '../src/page/state/storage.js';
import { makeResultsFile } from '../src/index.js';
import { record as sampleRecord } from './helpers/records.js';

const at = (kernel: string, seq: number, medianMs: number | null, over: Parameters<typeof sampleRecord>[0] = {}) =>
  sampleRecord({ kernel, medianMs, tag: PAGE_TAG, shape: { ...sampleRecord().shape, seqQ: seq, seqK: seq }, ...over });

const context = makeResultsFile(
  {
    date: '2026-11-22T00:00:00.000Z',
    tool: { name: 'webgpu-attention-playground', version: '0.1.0' },
    gitCommit: null,
    runtime: 'browser',
    userAgent: 'test',
    adapter: { vendor: 'v', architecture: 'a', device: '', description: 'd', software: false },
    features: [],
    limits: {},
    timestampMethod: 'wall',
    notes: [],
  },
  [],
).context;

describe('merging results', () => {
  it('replaces the live row of the same kernel and shape, whatever its tiles', () => {
    let results = [at('flash', 256, 2, { tiles: { br: 64 } }), at('naive', 256, 5)];
    results = mergeRecord(results, at('flash', 256, 1, { tiles: { br: 32 } }));
    expect(results).toHaveLength(2);
    expect(results.find((r) => r.kernel === 'flash')!.tiles).toEqual({ br: 32 });
  });

  it('keeps each autotune finalist, replacing only a finalist of the same tiles', () => {
    let results = [at('flash', 256, 2)];
    results = mergeRecord(results, at('flash', 256, 1, { tag: AUTOTUNE_FINAL_TAG, tiles: { br: 32 } }));
    results = mergeRecord(results, at('flash', 256, 1.5, { tag: AUTOTUNE_FINAL_TAG, tiles: { br: 16 } }));
    results = mergeRecord(results, at('flash', 256, 0.9, { tag: AUTOTUNE_FINAL_TAG, tiles: { br: 32 } }));
    expect(results).toHaveLength(3);
    expect(sortForDisplay(results).map((r) => [r.tag, r.medianMs])).toEqual([
      [PAGE_TAG, 2],
      [AUTOTUNE_FINAL_TAG, 0.9],
      [AUTOTUNE_FINAL_TAG, 1.5],
    ]);
  });

  it('sorts by shape then by kernel in registry order', () => {
    const sorted = sortForDisplay([at('flash', 512, 1), at('naive', 512, 1), at('flash', 256, 1), at('naive', 256, 1)]);
    expect(sorted.map((r) => `${r.kernel}${r.shape.seqK}`)).toEqual(['naive256', 'flash256', 'naive512', 'flash512']);
  });
});

describe('baseline', () => {
  it('matches the same kernel, shape and tiles, and gives baseline time ÷ this time', () => {
    const base = [at('flash', 256, 3, { tiles: { br: 64 } }), at('flash', 256, 2, { tiles: { br: 32 } })];
    const m = matchBaseline(at('flash', 256, 1.5, { tiles: { br: 64 } }), base)!;
    expect(m.sameTiles).toBe(true);
    expect(m.baseline.medianMs).toBe(3);
    expect(m.speedup).toBe(2);
  });

  it('falls back to the baseline’s fastest row of that kernel and shape when tiles differ', () => {
    const base = [at('flash', 256, 3, { tiles: { br: 64 } }), at('flash', 256, 2, { tiles: { br: 32 } })];
    const m = matchBaseline(at('flash', 256, 4, { tiles: { br: 16 } }), base)!;
    expect(m.sameTiles).toBe(false);
    expect(m.baseline.tiles).toEqual({ br: 32 });
    expect(m.speedup).toBe(0.5);
  });

  it('has no match for another shape or kernel, no ratio for untimed rows, and lists unmatched baseline rows', () => {
    const base = [at('flash', 512, 3), at('naive', 256, null, { status: 'skipped' })];
    expect(matchBaseline(at('flash', 256, 1), base)).toBeNull();
    expect(matchBaseline(at('naive', 256, 1), base)!.speedup).toBeNull();
    expect(unmatchedBaseline([at('naive', 256, 1)], base)).toEqual([base[0]]);
  });

  it('formats ratios with precision that suits their size', () => {
    expect(formatRatio(1)).toBe('1.00×');
    expect(formatRatio(12.345)).toBe('12.3×');
    expect(formatRatio(250)).toBe('250×');
  });
});

describe('plot data', () => {
  const family = { ...DEFAULT_CONFIG, shape: { batch: 1, heads: 4, kvHeads: 4, headDim: 64, causal: false } };

  it('draws one line per kernel over the lengths of the configured shape, the baseline’s fastest row dashed beside it', () => {
    const results = [at('naive', 256, 1), at('naive', 512, 4), at('flash', 512, 1), at('flash', 256, 9, { status: 'failed' })];
    const baseline = [at('flash', 512, 2, { tag: 'x' }), at('flash', 512, 1.5, { tag: 'y' }), at('flash', 1024, 3)];
    const data = plotData(results, baseline, family);
    expect(data.xs).toEqual([256, 512, 1024]);
    expect(data.series.map((s) => [s.label, s.ms])).toEqual([
      ['naive', [1, 4, null]],
      ['flash', [null, 1, null]],
      ['flash (baseline)', [null, 1.5, 3]],
    ]);
  });

  it('leaves out other shapes and autotune rows', () => {
    const data = plotData(
      [at('naive', 256, 1, { tag: AUTOTUNE_FINAL_TAG }), at('naive', 256, 1, { shape: { ...sampleRecord().shape, heads: 8, kvHeads: 8 } })],
      [],
      family,
    );
    expect(data).toEqual({ xs: [], series: [] });
  });

  it('fits log–log slopes: 2 for N², 1 for N, null with one point', () => {
    expect(loglogSlope([256, 512, 1024], [1, 4, 16])).toBeCloseTo(2, 10);
    expect(loglogSlope([256, 512, 1024], [1, 2, null])).toBeCloseTo(1, 10);
    expect(loglogSlope([256, 512], [1, null])).toBeNull();
  });
});

class MemoryStore implements KeyValueStore {
  readonly map = new Map<string, string>();
  full = false;
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    if (this.full) throw new DOMException('quota exceeded', 'QuotaExceededError');
    this.map.set(key, value);
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
}

describe('storage', () => {
  it('keeps results and baseline as results files and reads them back', () => {
    const store = new MemoryStore();
    const results = [at('naive', 256, 1), at('flash', 256, 0.5)];
    const baseline = makeResultsFile(context, [at('flash', 256, 2)]);
    expect(saveResults(store, context, results)).toBeNull();
    expect(saveBaseline(store, baseline, 'cli-run.json')).toBeNull();
    const loaded = loadStored(store);
    expect(loaded.problems).toEqual([]);
    expect(loaded.baselineName).toBe('cli-run.json');
    expect(loaded.results).toEqual(makeResultsFile(context, results));
    expect(loaded.baseline).toEqual(baseline);
  });

  it('removes what was cleared', () => {
    const store = new MemoryStore();
    saveResults(store, context, [at('naive', 256, 1)]);
    saveBaseline(store, makeResultsFile(context, []), 'old.json');
    saveResults(store, context, []);
    saveBaseline(store, null);
    expect(store.map.size).toBe(0);
    expect(loadStored(store)).toEqual({ results: null, baseline: null, baselineName: null, problems: [] });
  });

  it('reports and discards an entry that is not a valid results file', () => {
    const store = new MemoryStore();
    store.setItem(RESULTS_KEY, '{"format":"webgpu-attention-results","version":1,"results":[]}');
    store.setItem(BASELINE_KEY, 'not json');
    const loaded = loadStored(store);
    expect(loaded.results).toBeNull();
    expect(loaded.baseline).toBeNull();
    expect(loaded.problems).toHaveLength(2);
    expect(loaded.problems[0]).toMatch(/context/);
    expect(store.map.size).toBe(0);
  });

  it('says so when storage is full instead of throwing', () => {
    const store = new MemoryStore();
    store.full = true;
    expect(saveResults(store, context, [at('naive', 256, 1)])).toMatch(/could not be kept.*quota exceeded/);
  });
});
