// The plots' pure state: x-axis choice, metrics and their p20–p80 bands, the SVG export, memory against N.
import { describe, expect, it } from 'vitest';
import { defaultCaps } from '../src/gpu/caps.js';
import { DEFAULT_CONFIG, type PageConfig, defaultConfig } from '../src/page/state/config.js';
import { chartFileStem, type ChartSpec } from '../src/page/state/chart-spec.js';
import { chartSvg, linearTicks, logTicks } from '../src/page/state/chart-svg.js';
import { bufferLimit, firstOver, memoryPlot } from '../src/page/state/memory-plot.js';
import { rowsFor, xChoices } from '../src/page/state/plot-axes.js';
import { plotData } from '../src/page/state/plot-data.js';
import { metricBand, metricOf, metricValue } from '../src/page/state/plot-metric.js';
import { PAGE_TAG } from '../src/page/state/results.js';
import { record } from './helpers/records.js';

const config: PageConfig = { ...DEFAULT_CONFIG, kernels: ['naive', 'flash'], shape: { batch: 1, heads: 4, headDim: 64, causal: false }, seqs: [256, 512] };

/** A timed dense row of the configured shape at length n and head dim d (its scale follows d, as resolve makes it). */
const row = (kernel: string, n: number, d: number, medianMs: number, over: Parameters<typeof record>[0] = {}) =>
  record({
    kernel,
    medianMs,
    p20Ms: medianMs * 0.9,
    p80Ms: medianMs * 1.2,
    tflops: 1 / medianMs,
    gbps: 10 / medianMs,
    tag: PAGE_TAG,
    shape: { batch: 1, heads: 4, kvHeads: 4, seqQ: n, seqK: n, headDim: d, causal: false, scale: 1 / Math.sqrt(d) },
    ...over,
  });

describe('x axis choice', () => {
  const rows = [row('flash', 256, 64, 1), row('flash', 512, 64, 2), row('flash', 512, 32, 1.5), row('flash', 512, 128, 3), row('naive', 256, 32, 9)];

  it('offers the swept field, and a field that varies among otherwise configured rows, held at the longest length where it varies', () => {
    const choices = xChoices(rows, config);
    expect(choices).toEqual([
      { key: 'seqK', label: 'sequence length', held: null },
      { key: 'headDim', label: 'head dim', held: 512 },
    ]);
    // Heads vary only with kvHeads pinned apart from them: no such rows, no choice.
    expect(xChoices([...rows, row('flash', 512, 64, 1, { shape: { ...rows[0]!.shape, heads: 8 } })], config).map((c) => c.key)).toEqual(['seqK', 'headDim']);
    // Batch rows of the configured shape otherwise (KV heads follow heads either way).
    const batch = row('flash', 512, 64, 4, { shape: { ...rows[1]!.shape, batch: 2 } });
    expect(xChoices([...rows, batch], config).map((c) => c.key)).toEqual(['seqK', 'batch', 'headDim']);
  });

  it('plots the chosen field with the others held: other lengths and heads are left out', () => {
    const headDim = xChoices(rows, config)[1]!;
    expect(rowsFor(rows, config, headDim).map((r) => r.shape.headDim)).toEqual([64, 32, 128]);
    const data = plotData(rows, [], config, [], headDim);
    expect(data.xs).toEqual([32, 64, 128]);
    expect(data.series.map((s) => [s.label, s.ms])).toEqual([['flash', [1.5, 2, 3]]]);
    // On the swept field, only the configured head dim.
    const byN = plotData(rows, [], config);
    expect(byN.xs).toEqual([256, 512]);
    expect(byN.series.map((s) => s.ms)).toEqual([[1, 2]]);
  });
});

describe('metrics and bands', () => {
  const r = row('flash', 256, 64, 2);

  it('reads median ms, TFLOP/s and GB/s from the record', () => {
    expect(metricValue(r, 'ms')).toBe(2);
    expect(metricValue(r, 'tflops')).toBe(0.5);
    expect(metricValue(r, 'gbps')).toBe(5);
    expect(metricValue(undefined, 'ms')).toBeNull();
    expect(metricOf('nonsense').key).toBe('ms');
    expect(metricOf('gbps').yLog).toBe(false);
  });

  it('bands time by p20–p80 and a rate by the rate at p80 (low) and at p20 (high)', () => {
    expect(metricBand(r, 'ms')).toEqual([1.8, 2.4]);
    const [lo, hi] = metricBand(r, 'tflops')!;
    expect(lo).toBeCloseTo(0.5 / 1.2, 12);
    expect(hi).toBeCloseTo(0.5 / 0.9, 12);
    const [glo, ghi] = metricBand(r, 'gbps')!;
    expect(glo).toBeCloseTo(5 / 1.2, 12);
    expect(ghi).toBeCloseTo(5 / 0.9, 12);
    expect(metricBand({ ...r, p20Ms: null }, 'ms')).toBeNull();
    expect(metricBand({ ...r, p80Ms: 0 }, 'tflops')).toBeNull();
  });
});

describe('chart SVG', () => {
  const spec: ChartSpec = {
    title: 'Time per run vs sequence length (log–log)',
    xLabel: 'sequence length',
    yLabel: 'median ms',
    xs: [256, 512, 1024],
    series: [
      { label: 'naive', values: [1, 4, 16], color: '#d9480f', dashed: false, band: { lo: [0.9, 3.5, 15], hi: [1.2, 4.5, 18] } },
      { label: 'flash <f32> & "co"', values: [1, null, 3], color: '#1c7ed6', dashed: true },
    ],
    yLog: true,
    formatY: (v) => String(v),
    emptyText: 'nothing',
    markers: [{ x: 600, label: 'naive stops fitting', color: '#d9480f' }],
  };

  it('is a standalone SVG file with title, log ticks, one polyline per series, bands, markers and a legend', () => {
    const svg = chartSvg(spec);
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toMatch(/viewBox="0 0 720 \d+"/);
    expect(svg).toContain('<title>Time per run vs sequence length (log–log)</title>');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('<g data-series="naive"><polyline ');
    expect(svg).toMatch(/<g data-series="flash &lt;f32&gt; &amp; &quot;co&quot;"><polyline [^>]*stroke-dasharray="6 5"/);
    expect(svg.match(/<polygon /g)).toHaveLength(1);
    expect(svg).toContain('data-marker="600"');
    // Decade ticks on y (1, 10), every length on x, the legend names each series.
    for (const label of ['>1<', '>10<', '>256<', '>512<', '>1024<', '>naive<', '>naive stops fitting<']) expect(svg).toContain(label);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expectWellFormed(svg);
  });

  it('skips null points, says why it is empty, and names its file after the title', () => {
    const svg = chartSvg(spec);
    // flash has two points: a polyline of two and two circles.
    const flash = svg.match(/data-series="flash[^"]*"><polyline points="([^"]+)"/)![1]!;
    expect(flash.split(' ')).toHaveLength(2);
    // A series of one point is a circle in its group; its band a bar, not a line.
    const single = chartSvg({ ...spec, xs: [256], series: [{ ...spec.series[0]!, values: [1], band: { lo: [0.9], hi: [1.2] } }], markers: [] });
    expect(single).toMatch(/<g data-series="naive"><circle [^>]*\/><\/g>/);
    expect(single.match(/<polygon points="([^"]+)"/)![1]!.split(' ')).toHaveLength(4);
    expectWellFormed(single);
    const empty = chartSvg({ ...spec, xs: [], series: [] });
    expect(empty).toContain('>nothing<');
    expectWellFormed(empty);
    expect(chartFileStem(spec.title)).toBe('time-per-run-vs-sequence-length-log-log');
  });

  it('ticks log axes by decade (with 2 and 5 inside one decade) and linear axes by 1, 2 or 5', () => {
    expect(logTicks(-0.2, 2.1)).toEqual([1, 10, 100]);
    expect(logTicks(0.1, 0.9)).toEqual([2, 5]);
    expect(linearTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(linearTicks(0)).toEqual([0]);
  });
});

/** Tags open and close in order, attributes are quoted, no stray & or <: what an XML parser needs of this generator's output. */
function expectWellFormed(svg: string): void {
  const body = svg.replace(/^<\?xml[^?]*\?>\s*/, '');
  const tag = /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let tags = 0;
  for (const m of body.matchAll(tag)) {
    tags++;
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]!);
  }
  expect(stack).toEqual([]);
  expect(tags).toBeGreaterThan(3);
  // Once every tag is taken out, what is left is text: no stray < or unescaped &.
  expect(body.replace(tag, '')).not.toMatch(/<|&(?!amp;|lt;|gt;|quot;|apos;)/);
}

describe('memory against N', () => {
  const caps = defaultCaps();
  const dense: PageConfig = { ...config, shape: { batch: 1, heads: 8, headDim: 64, causal: false }, seqs: [256, 512, 1024] };

  it('finds where naive’s N² scores pass maxStorageBufferBindingSize and where flash’s Q does', () => {
    // S is B·H·N²·4 bytes: 8·N²·4 > 2²⁷ from N = 2049; Q is 8·N·64·4 > 2²⁷ from N = 65537.
    expect(bufferLimit(caps)).toEqual({ name: 'maxStorageBufferBindingSize', bytes: 134217728 });
    const plot = memoryPlot(dense, caps)!;
    const [naive, flash] = plot.curves;
    expect(naive!.stopsAt).toEqual({ n: 2049, buffer: 'S (scores)', bytes: 8 * 2049 * 2049 * 4 });
    expect(flash!.stopsAt!.n).toBe(65537);
    expect(flash!.stopsAt!.buffer).toBe('Q');
    // Doublings from 256 to the first past the last crossing.
    expect(plot.ns[0]).toBe(256);
    expect(plot.ns.at(-1)).toBe(131072);
    const at = (n: number) => plot.ns.indexOf(n);
    const tensors = 4 * 8 * 1024 * 64 * 4;
    expect(flash!.totals[at(1024)]).toBe(tensors);
    expect(naive!.totals[at(1024)]).toBe(tensors + 2 * 8 * 1024 * 1024 * 4);
  });

  it('follows the device’s limit, and says when a kernel never stops fitting', () => {
    const big = defaultCaps({ limits: { ...caps.limits, maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 30 } });
    expect(bufferLimit(big)).toEqual({ name: 'maxBufferSize', bytes: 2 ** 30 });
    expect(memoryPlot(dense, big)!.curves[0]!.stopsAt!.n).toBe(5793);
    // decode: the KV cache grows with the context and passes the limit within the field's range.
    const decode = memoryPlot(defaultConfig('decode'), caps)!;
    const totals = decode.curves[0]!.totals as number[];
    expect(totals.every((t, i) => i === 0 || t > totals[i - 1]!)).toBe(true);
    expect(decode.curves[0]!.stopsAt!.n).toBeLessThanOrEqual(decode.ns.at(-1)!);
    expect(firstOver((n) => n * 10, 100, 1, 1000)).toBe(11);
    expect(firstOver((n) => n, 1e9, 1, 1000)).toBeNull();
  });
});
