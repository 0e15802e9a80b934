import path from 'node:path';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { getProblem } from '../../src/attention/registry.js';
import type { RawShape } from '../../src/attention/types.js';
import { type ResultRecord, makeResultsFile } from '../../src/index.js';
import { record } from '../helpers/records.js';
import { ARTIFACTS, type StaticServer, newContext, usePageServer, watch } from './harness.js';

/*
 * "Compare across families" in headless Chromium, driven by accessible names: a small synthetic
 * results file (dense, window, linear and the top-k pipeline with its stages, as from an H200) is
 * imported through the page's import control, kernels are ticked, the reference chosen, and the
 * crossovers listed are checked against the ones computed here from the records. No kernel runs.
 */

let server: StaticServer;
let browser: Browser;
usePageServer((s, b) => {
  server = s;
  browser = b;
});

const NS = [1024, 2048, 4096, 8192];
const BIG = { batch: 1, heads: 16, headDim: 128 };

function row(family: string, kernel: string, raw: RawShape, ms: number): ResultRecord {
  const shape = getProblem(family).resolve(raw) as ResultRecord['shape'];
  return record({ family, kernel, shape: { ...shape }, medianMs: ms, p20Ms: ms, p80Ms: ms, tag: 'h200' });
}

// Power laws in N, so that the log–log interpolation is exact: flash 0.5·(N/1000)², window
// 1.5·N/1000 (crosses flash at 3000), linear 3·N/1000 (at 6000), the pipeline 2.5·N/1000 (at 5000).
const flashMs = (n: number) => 0.5 * (n / 1000) ** 2;
const TOPK = { ...BIG, topK: 256, indexHeads: 4, indexDim: 64 };
const rows: ResultRecord[] = [
  ...NS.map((n) => row('dense', 'naive', { ...BIG, seqK: n, causal: true }, 4 * flashMs(n))),
  ...NS.map((n) => row('dense', 'flash', { ...BIG, seqK: n, causal: true }, flashMs(n))),
  row('dense', 'flash', { ...BIG, seqK: 4096, causal: false }, 2 * flashMs(4096)),
  row('dense', 'flash', { batch: 1, heads: 4, headDim: 64, seqK: 4096, causal: true }, 1),
  ...NS.map((n) => row('window', 'window-flash', { ...BIG, seqK: n, window: 512 }, (1.5 * n) / 1000)),
  ...NS.map((n) => row('linear', 'linear-chunked', { batch: 1, heads: 16, seqK: n, dk: 128, dv: 128 }, (3 * n) / 1000)),
  ...NS.map((n) => row('topk', 'topk-pipeline', { ...TOPK, seqK: n }, (2.5 * n) / 1000)),
  ...NS.map((n) => row('topk-index', 'topk-index', { ...TOPK, seqK: n, queryRows: n }, n / 1000)),
  ...NS.map((n) => row('topk-select', 'topk-select', { ...TOPK, seqK: n, queryRows: n }, (0.5 * n) / 1000)),
  ...NS.map((n) => row('topk-attend', 'topk-attend', { ...TOPK, seqK: n }, (0.25 * n) / 1000)),
];
const file = makeResultsFile(
  {
    date: '2026-11-22T00:00:00.000Z',
    tool: { name: 'webgpu-attention-playground', version: '0.1.0' },
    gitCommit: null,
    runtime: 'node',
    userAgent: null,
    adapter: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', software: false },
    features: [],
    limits: {},
    timestampMethod: 'timestamp-query',
    notes: [],
  },
  rows,
);

/** The crossings of `other` with `reference`, straight from the records: log–log interpolation between common lengths. */
function expectedCrossings(reference: string, other: string): number[] {
  const times = (kernel: string) =>
    new Map(rows.filter((r) => r.kernel === kernel && r.shape.heads === 16 && r.shape.causal !== false).map((r) => [r.shape.seqK as number, r.medianMs!]));
  const ref = times(reference);
  const oth = times(other);
  const ns = [...oth.keys()].filter((n) => ref.has(n)).sort((a, b) => a - b);
  const f = ns.map((n) => Math.log(oth.get(n)! / ref.get(n)!));
  const out: number[] = [];
  for (let i = 1; i < ns.length; i++) {
    if (Math.sign(f[i]!) !== Math.sign(f[i - 1]!)) {
      const t = f[i - 1]! / (f[i - 1]! - f[i]!);
      out.push(Math.exp(Math.log(ns[i - 1]!) + t * (Math.log(ns[i]!) - Math.log(ns[i - 1]!))));
    }
  }
  return out;
}

describe('compare across families', () => {
  it('draws ticked kernels of every family at common sizes, with crossovers, ratios and the top-k stages', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const seen = watch(page);
      await page.goto(`${server.url}?f=dense`);
      await page.waitForFunction(() => !!window.__playground);
      await page.getByLabel('Results file to import').setInputFiles({
        name: 'h200-cross.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify(file)),
      });
      const region = page.getByRole('region', { name: 'Compare across families' });
      const imported = region.getByRole('group', { name: 'Imported: h200-cross.json' });
      await imported.waitFor();
      const tick = (family: string, kernel: string) =>
        imported.getByRole('group', { name: family, exact: true }).getByRole('checkbox', { name: kernel, exact: true }).check();
      await tick('dense', 'naive');
      await tick('dense', 'flash');
      await tick('window', 'window-flash');
      await tick('linear', 'linear-chunked');
      await tick('topk', 'topk-pipeline');
      await region.getByLabel('Reference kernel').selectOption({ label: 'flash causal' });

      // The common sizes it settled on, and the rows left out with why.
      const common = region.locator('[data-common]');
      expect(await common.getAttribute('data-batch')).toBe('1');
      expect(await common.getAttribute('data-heads')).toBe('16');
      expect(await common.getAttribute('data-dim')).toBe('128');
      const leftOut = await region.locator('[data-left-out]').allTextContents();
      expect(leftOut.map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
        'flash (imported): 1 row, not causal: window, top-k and linear attention are causal, so only causal dense rows compare with them',
        'flash (imported): 1 row, heads 4, head dim 64, not the common B1 H16 d128',
      ]);

      // The chart: one line per ticked kernel, the stages stacked beside the pipeline, a marker per crossover.
      const figure = region.locator('cross-family-chart figure');
      const lines = JSON.parse((await figure.getAttribute('data-lines'))!) as string[];
      expect(lines).toEqual([
        'naive causal',
        'flash causal',
        'window-flash',
        'topk-pipeline',
        'linear-chunked',
        'topk-pipeline stages: index',
        'topk-pipeline stages: index+select',
        'topk-pipeline stages: index+select+attend',
      ]);
      // uPlot's own legend (drawn from the series it was given) names the same lines.
      const legend = await region.locator('cross-family-chart .u-legend .u-series .u-label').allTextContents();
      expect(legend).toEqual(lines);
      const markers = JSON.parse((await figure.getAttribute('data-markers'))!) as number[];
      expect(markers).toHaveLength(3);

      // Crossovers against flash, each equal to the one computed from the records.
      const table = region.getByRole('table', { name: 'Crossovers' });
      for (const [label, kernel, approx] of [
        ['window-flash', 'window-flash', 3000],
        ['linear-chunked', 'linear-chunked', 6000],
        ['topk-pipeline', 'topk-pipeline', 5000],
      ] as const) {
        const tr = table.locator(`tr[data-series="${label}"]`);
        expect(await tr.getAttribute('data-kind')).toBe('crosses');
        const n = Number(await tr.getAttribute('data-n'));
        const [want] = expectedCrossings('flash', kernel);
        expect(n).toBeCloseTo(want!, 6);
        expect(n).toBeCloseTo(approx, 6);
        expect(await tr.textContent()).toContain(`${label} faster from N ≈ ${approx}`);
      }
      expect(expectedCrossings('flash', 'naive')).toEqual([]);
      const naive = table.locator('tr[data-series="naive causal"]');
      expect(await naive.getAttribute('data-kind')).toBe('never');
      expect(await naive.textContent()).toContain('never crosses in the measured range (N 1024–8192): flash causal faster throughout');

      // Time ÷ flash at the same length.
      const ratios = region.getByRole('table', { name: 'Time ÷ reference' });
      const cell = ratios.locator('tr[data-n="4096"] td[data-series="window-flash"]');
      expect(Number(await cell.getAttribute('data-ratio'))).toBeCloseTo((1.5 * 4096) / 1000 / flashMs(4096), 12);
      expect(await ratios.locator('tr[data-n="1024"] td[data-series="naive causal"]').getAttribute('data-ratio')).toBe('4');

      // The results table divides by the same reference (here every row is the imported file's, listed as baseline-only rows).
      const mainTable = page.getByRole('table', { name: 'Results', exact: true });
      await expect.poll(() => mainTable.locator('th[data-col=ratio]').textContent()).toBe('÷ flash causal');
      const mainRatios = (kernel: string, n: number) =>
        mainTable
          .locator(`tr[data-kernel="${kernel}"][data-seq="${n}"] td[data-col=ratio]`)
          .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-ratio')));
      expect((await mainRatios('window-flash', 4096)).map(Number)[0]).toBeCloseTo((1.5 * 4096) / 1000 / flashMs(4096), 12);
      // flash at 4096: the causal row (1×), the non-causal one and the H4 one (not comparable: no ratio).
      expect((await mainRatios('flash', 4096)).sort()).toEqual(['', '', '1']);

      // The stages: index 1, select 0.5, attend 0.25 per N/1000, so 4/7, 2/7, 1/7 at every length.
      const stages = region.getByRole('table', { name: 'Top-k stages' });
      expect(await stages.locator('tbody tr').count()).toBe(4);
      const first = stages.locator('tr[data-n="2048"]');
      expect(Number(await first.getAttribute('data-share-index'))).toBeCloseTo(4 / 7, 12);
      expect(Number(await first.getAttribute('data-share-attend'))).toBeCloseTo(1 / 7, 12);

      await region.screenshot({ path: path.join(ARTIFACTS, 'page-cross-family.png') });

      // Unticking the pipeline takes its line and its stages off the chart.
      await imported.getByRole('group', { name: 'topk', exact: true }).getByRole('checkbox', { name: 'topk-pipeline', exact: true }).uncheck();
      await expect
        .poll(async () => JSON.parse((await figure.getAttribute('data-lines'))!))
        .toEqual(['naive causal', 'flash causal', 'window-flash', 'linear-chunked']);
      expect(await region.getByRole('table', { name: 'Top-k stages' }).count()).toBe(0);

      // Stage rows that time only the last 256 queries do not line up with the pipeline: said, not drawn.
      const partial = rows.map((r) => (r.family === 'topk-index' || r.family === 'topk-select' ? { ...r, shape: { ...r.shape, queryRows: 256 } } : r));
      await page.getByLabel('Results file to import').setInputFiles({
        name: 'h200-partial.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify({ ...file, results: partial })),
      });
      const again = region.getByRole('group', { name: 'Imported: h200-partial.json' });
      await again.getByRole('group', { name: 'topk', exact: true }).getByRole('checkbox', { name: 'topk-pipeline', exact: true }).check();
      const problem = region.locator('[data-stage-problem]');
      await expect.poll(() => problem.count()).toBe(1);
      expect((await problem.textContent())!.replace(/\s+/g, ' ')).toContain(
        'Not stacked: the stage rows do not line up with the pipeline’s shape: N 1024: topk-index at another shape (queryRows 256 of 1024 (only the last queries)); topk-select at another shape',
      );
      expect(await region.getByRole('table', { name: 'Top-k stages' }).count()).toBe(0);
      expect(JSON.parse((await figure.getAttribute('data-lines'))!)).toEqual([
        'naive causal',
        'flash causal',
        'window-flash',
        'topk-pipeline',
        'linear-chunked',
      ]);

      // A reload keeps the view: the ticks, reference and common shape and the roofline's source
      // from local storage, the plots' metric from the URL (and, on a bare URL, from the kept query).
      await page.getByRole('combobox', { name: 'Metric' }).selectOption('gbps');
      await page.getByLabel('Roofline points from').selectOption('file');
      await expect.poll(() => new URL(page.url()).searchParams.get('y')).toBe('gbps');
      const ticked = () =>
        region
          .getByRole('group', { name: 'Imported: h200-partial.json' })
          .getByRole('checkbox', { checked: true })
          .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      const reference = () => region.getByLabel('Reference kernel').evaluate((el) => (el as HTMLSelectElement).selectedOptions[0]!.textContent!.trim());
      const kept = async (heads: string) => {
        await region.getByRole('group', { name: 'Imported: h200-partial.json' }).waitFor();
        expect((await ticked()).sort()).toEqual(['flash', 'linear-chunked', 'naive', 'topk-pipeline', 'window-flash']);
        expect(await reference()).toBe('flash causal');
        expect(await common.getAttribute('data-heads')).toBe(heads);
        expect(await page.getByRole('combobox', { name: 'Metric' }).inputValue()).toBe('gbps');
        expect(await page.getByLabel('Roofline points from').inputValue()).toBe('file');
        expect(new URL(page.url()).searchParams.get('y')).toBe('gbps');
      };
      await page.reload();
      await kept('16');
      await region.getByLabel('Common shape').selectOption({ label: 'B1 H4 d64' });
      await expect.poll(() => common.getAttribute('data-heads')).toBe('4');
      await page.goto(server.url);
      await kept('4');

      expect(seen.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
