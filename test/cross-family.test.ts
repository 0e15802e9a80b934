import { describe, expect, it } from 'vitest';
import { getProblem } from '../src/attention/registry.js';
import type { RawShape } from '../src/attention/types.js';
import type { ResultRecord } from '../src/index.js';
import { type SourceRows, candidateKey, compareCandidates, compareSeries, dimsOf, ratioToReference, referenceOf } from '../src/page/state/cross-family.js';
import { crossover, crossoverText, ratioAt } from '../src/page/state/crossover.js';
import { stackStages } from '../src/page/state/topk-stages.js';
import { record } from './helpers/records.js';

/** A timed row of `kernel` in `family` at a shape the family itself resolved (so every field is there). */
function row(family: string, kernel: string, raw: RawShape, ms: number, over: Partial<ResultRecord> = {}): ResultRecord {
  const shape = getProblem(family).resolve(raw) as ResultRecord['shape'];
  return record({ family, kernel, shape: { ...shape }, medianMs: ms, p20Ms: ms, p80Ms: ms, ...over });
}

const NS = [1024, 2048, 4096, 8192];
const BIG = { batch: 1, heads: 16, headDim: 128 };

describe('cross-family series', () => {
  const dense = NS.map((n) => row('dense', 'flash', { ...BIG, seqK: n, causal: true }, (n / 1000) ** 2));
  const denseFull = NS.map((n) => row('dense', 'flash', { ...BIG, seqK: n, causal: false }, 2 * (n / 1000) ** 2));
  const window = NS.map((n) => row('window', 'window-flash', { ...BIG, seqK: n, window: 1024 }, 1.1 * (n / 1000)));
  const linear = NS.map((n) => row('linear', 'linear-chunked', { batch: 1, heads: 16, seqK: n, dk: 128, dv: 128 }, 2 * (n / 1000)));
  const smallNaive = [1024, 2048].map((n) => row('dense', 'naive', { batch: 1, heads: 4, headDim: 64, seqK: n, causal: true }, 5));
  const failed = row('window', 'window-flash', { ...BIG, seqK: 16384, window: 1024 }, 1, { status: 'failed' });
  const sources: SourceRows[] = [
    { source: 'results', rows: [...smallNaive, failed] },
    { source: 'imported', rows: [...dense, ...denseFull, ...window, ...linear] },
  ];
  const all = new Set(compareCandidates(sources).map((c) => c.key));

  it('lists every kernel of every source in registry order', () => {
    expect(compareCandidates(sources).map((c) => `${c.source}:${c.kernel}:${c.timed}`)).toEqual([
      'results:naive:2',
      'results:window-flash:0',
      'imported:flash:8',
      'imported:window-flash:4',
      'imported:linear-chunked:4',
    ]);
  });

  it('keeps rows at the common batch, heads and head dim, causal dense only beside window and linear, and says why others left', () => {
    const cmp = compareSeries(sources, all);
    expect(cmp.common).toEqual({ batch: 1, heads: 16, headDim: '128' });
    // Every kept row is imported, so no label needs to say so.
    expect(cmp.series.map((s) => s.label)).toEqual(['flash causal', 'window-flash', 'linear-chunked']);
    expect(cmp.series.every((s) => s.points.length === 4)).toBe(true);
    expect(cmp.xs).toEqual(NS);
    const why = Object.fromEntries(cmp.leftOut.map((l) => [`${l.source}:${l.kernel}`, `${l.count} ${l.reason}`]));
    expect(why['imported:flash']).toMatch(/^4 not causal/);
    expect(why['results:naive']).toBe('2 heads 4, head dim 64, not the common B1 H16 d128');
    expect(why['results:window-flash']).toBe('1 not timed (failed)');
  });

  it('keeps non-causal dense rows when only dense kernels are ticked, as their own series', () => {
    const cmp = compareSeries(sources, new Set([candidateKey('imported', 'dense', 'flash')]));
    expect(cmp.series.map((s) => s.label)).toEqual(['flash causal', 'flash non-causal']);
    expect(cmp.leftOut).toEqual([]);
  });

  it('offers the other common sizes, and takes the one asked for', () => {
    const cmp = compareSeries(sources, all);
    expect(cmp.choices.map((d) => `${d.batch}|${d.heads}|${d.headDim}`)).toEqual(['1|16|128', '1|4|64']);
    const small = compareSeries(sources, all, '1|4|64');
    expect(small.series.map((s) => s.kernel)).toEqual(['naive']);
  });

  it('reads linear attention’s head dim from d_k and d_v', () => {
    expect(dimsOf(linear[0]!)).toEqual({ batch: 1, heads: 16, headDim: '128' });
    expect(dimsOf(row('linear', 'linear-chunked', { seqK: 64, dk: 64, dv: 128 }, 1)).headDim).toBe('64/128');
    // The indexer stage has no heads and no head dim: it fits any.
    expect(dimsOf(row('topk-index', 'topk-index', { seqK: 64 }, 1))).toEqual({ batch: 1, heads: null, headDim: null });
  });

  it('gives a results row its time ÷ the reference’s when it would have been compared with it', () => {
    const cmp = compareSeries(sources, all);
    const ref = referenceOf(cmp.series.find((s) => s.label === 'flash causal')!, cmp.common!);
    expect(ref.causal).toBe(true);
    expect(ratioToReference(window[2]!, ref)).toBeCloseTo((1.1 * 4.096) / 4.096 ** 2, 12);
    expect(ratioToReference(denseFull[2]!, ref)).toBeNull();
    expect(ratioToReference(smallNaive[0]!, ref)).toBeNull();
    expect(ratioToReference(row('window', 'window-flash', { ...BIG, seqK: 3000 }, 1), ref)).toBeNull();
  });

  it('splits a kernel’s rows by the fields that vary and names them', () => {
    const rows = [...window, ...NS.map((n) => row('window', 'window-flash', { ...BIG, seqK: n, window: 4096 }, n / 500))];
    const cmp = compareSeries([{ source: 'results', rows }], new Set([candidateKey('results', 'window', 'window-flash')]));
    expect(cmp.series.map((s) => s.label)).toEqual(['window-flash window=1024', 'window-flash window=4096']);
  });
});

describe('crossover', () => {
  const pts = (ms: (n: number) => number, ns = NS) => ns.map((n) => ({ n, ms: ms(n) }));

  it('interpolates a known crossing on the log–log chart (N² against 4·N crosses at N = 4000)', () => {
    const dense = pts((n) => (n / 1000) ** 2);
    const linear = pts((n) => 4 * (n / 1000));
    const c = crossover(dense, linear);
    expect(c.kind).toBe('crosses');
    expect(c.crossings).toHaveLength(1);
    expect(c.crossings[0]!.n).toBeCloseTo(4000, 6);
    expect(c.crossings[0]!.fasterAfter).toBe('other');
    expect(c.crossings[0]!.measured).toBe(false);
    expect(crossoverText(c, 'flash', 'linear')).toBe('linear faster from N ≈ 4000');
    // Seen from the other side, the reference is the one faster past the crossing.
    expect(crossover(linear, dense).crossings[0]!.fasterAfter).toBe('reference');
  });

  it('says when two curves never cross in the measured range', () => {
    const c = crossover(
      pts((n) => n),
      pts((n) => n / 2),
    );
    expect(c.kind).toBe('never');
    expect(c.faster).toBe('other');
    expect(crossoverText(c, 'naive', 'flash')).toBe('never crosses in the measured range (N 1024–8192): flash faster throughout');
  });

  it('takes a measured length where the times are equal as the crossing, and a touch as no crossing', () => {
    const ref = pts((n) => n / 1024, [1024, 2048, 4096]);
    const c = crossover(
      ref,
      pts(() => 2, [1024, 2048, 4096]),
    );
    expect(c.crossings).toEqual([{ n: 2048, fasterAfter: 'other', measured: true }]);
    expect(crossoverText(c, 'a', 'b')).toBe('b faster from N = 2048');
    const touch = crossover(ref, [
      { n: 1024, ms: 2 },
      { n: 2048, ms: 2 },
      { n: 4096, ms: 5 },
    ]);
    expect(touch.kind).toBe('never');
    expect(touch.faster).toBe('reference');
  });

  it('needs two common lengths', () => {
    expect(
      crossover(
        pts((n) => n, [1024]),
        pts((n) => n, [1024, 2048]),
      ).kind,
    ).toBe('too-few');
  });

  it('gives the time ratio against the reference at the same length only', () => {
    const ref = pts((n) => n / 1024);
    expect(ratioAt(ref, 2048, 1)).toBe(0.5);
    expect(ratioAt(ref, 3000, 1)).toBeNull();
  });
});

describe('top-k stages', () => {
  const shape = { batch: 1, heads: 4, headDim: 64, topK: 256, indexHeads: 4, indexDim: 32 };
  const ns = [1024, 2048];
  const pipeline = ns.map((n) => row('topk', 'topk-pipeline', { ...shape, seqK: n }, n / 100));
  const stage = (family: string, n: number, ms: number, raw: RawShape = {}) => row(family, family, { ...shape, seqK: n, queryRows: n, ...raw }, ms);
  const stages = ns.flatMap((n) => [stage('topk-index', n, n / 400), stage('topk-select', n, n / 800), stage('topk-attend', n, n / 1600)]);

  it('stacks index, select and attend under each pipeline length with their shares', () => {
    const stack = stackStages(pipeline, stages)!;
    expect(stack.problems).toEqual([]);
    expect(stack.points.map((p) => p.n)).toEqual(ns);
    const p = stack.points[0]!;
    expect(p.cumulative).toEqual([1024 / 400, 1024 / 400 + 1024 / 800, 1024 / 400 + 1024 / 800 + 1024 / 1600]);
    expect(p.shares['topk-index']).toBeCloseTo(4 / 7, 12);
    expect(p.shares['topk-select']).toBeCloseTo(2 / 7, 12);
    expect(p.shares['topk-attend']).toBeCloseTo(1 / 7, 12);
    expect(p.sumOverPipeline).toBeCloseTo((1024 / 400 + 1024 / 800 + 1024 / 1600) / (1024 / 100), 12);
  });

  it('says so instead of stacking when the stage rows are at another shape', () => {
    const off = [stage('topk-index', 1024, 1, { queryRows: 256 }), stage('topk-select', 1024, 1, { topK: 64 }), stage('topk-attend', 2048, 1)];
    const stack = stackStages(pipeline, off)!;
    expect(stack.points).toEqual([]);
    expect(stack.problems[0]).toBe(
      'N 1024: topk-index at another shape (queryRows 256 of 1024 (only the last queries)); topk-select at another shape (topK 64 ≠ 256); no topk-attend row',
    );
    expect(stack.problems[1]).toBe('N 2048: no topk-index row; no topk-select row');
  });

  it("prefers the pipeline row's own stage timings over stage rows", () => {
    const timed = pipeline.map((p, i) => ({
      ...p,
      stages: [
        { name: 'index', medianMs: 1 + i },
        { name: 'select', medianMs: 2 },
        { name: 'attend', medianMs: 5 },
      ],
    }));
    const stack = stackStages(timed, [])!;
    expect(stack.problems).toEqual([]);
    expect(stack.points.map((p) => p.cumulative)).toEqual([
      [1, 3, 8],
      [2, 4, 9],
    ]);
    expect(stack.points[0]!.shares['topk-attend']).toBeCloseTo(5 / 8, 12);
  });

  it('has nothing to say without stage rows', () => {
    expect(stackStages(pipeline, pipeline)).toBeNull();
  });
});
