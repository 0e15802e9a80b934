import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../src/index.js';
import { ARTIFACTS, type StaticServer, completedJobs, newContext, waitForJobs, watch, usePageServer } from './harness.js';

/*
 * The results plots on SwiftShader, driven by their accessible names: the metric and x-axis
 * selects against the records the lines come from, the p20–p80 bands, SVG and PNG export, and the
 * memory plot's mark where naive stops fitting the device's buffer limit.
 */

let server: StaticServer;
let browser: Browser;
usePageServer((s, b) => {
  server = s;
  browser = b;
});

interface ShownSeries {
  label: string;
  values: (number | null)[];
  band?: { lo: (number | null)[]; hi: (number | null)[] };
}

/** What a chart draws (its spec, less the formatting functions, which do not cross into the test). */
const shown = (page: Page, selector: string) =>
  page.locator(selector).evaluate((el) => {
    const spec = (el as unknown as { spec: { title: string; yLabel: string; xs: number[]; series: ShownSeries[]; markers?: { x: number; label: string }[] } })
      .spec;
    return {
      title: spec.title,
      yLabel: spec.yLabel,
      xs: spec.xs,
      series: spec.series.map((s) => ({ label: s.label, values: s.values, band: s.band })),
      markers: spec.markers ?? [],
    };
  });

const PREFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

describe('results plots', () => {
  it('switches metric and x axis, bands p20–p80, exports SVG and PNG, and marks where naive stops fitting', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const seen = watch(page);
      await page.goto(`${server.url}?k=naive,flash&b=1&h=1&kvh=1&d=32&n=16,32&samples=3`);
      await page.locator('device-panel [data-field=vendor]').waitFor({ timeout: 60_000 });
      const before = await completedJobs(page);
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await waitForJobs(page, before + 1);
      const results = (await page.evaluate(() => window.__playground!.controller.results)) as ResultRecord[];
      expect(results).toHaveLength(4);
      const rowOf = (kernel: string, n: number) => results.find((r) => r.kernel === kernel && r.shape.seqK === n)!;
      const metricChart = 'results-plots uplot-chart[data-chart=metric]';

      // Time against N: each line is its kernel's medians, its band the records' p20 and p80.
      let chart = await shown(page, metricChart);
      expect(chart.xs).toEqual([16, 32]);
      for (const s of chart.series) {
        expect(s.values).toEqual([16, 32].map((n) => rowOf(s.label, n).medianMs));
        expect(s.band).toEqual({ lo: [16, 32].map((n) => rowOf(s.label, n).p20Ms), hi: [16, 32].map((n) => rowOf(s.label, n).p80Ms) });
      }

      await page.locator('results-plots').screenshot({ path: path.join(ARTIFACTS, 'plots-time.png') });

      // TFLOP/s in the unit the axis names; the band's low edge is the rate at the p80 time.
      await page.getByRole('combobox', { name: 'Metric' }).selectOption('tflops');
      await expect.poll(async () => (await shown(page, metricChart)).yLabel).toMatch(/^[kMGTP]?FLOP\/s$/);
      chart = await shown(page, metricChart);
      const factor = 1e12 / PREFIX[chart.yLabel.replace('FLOP/s', '')]!;
      const flash = chart.series.find((s) => s.label === 'flash')!;
      const r32 = rowOf('flash', 32);
      expect(flash.values[1]).toBeCloseTo(r32.tflops! * factor, 9);
      expect(flash.band!.lo[1]).toBeCloseTo(((r32.tflops! * r32.medianMs!) / r32.p80Ms!) * factor, 9);

      // Rows at other head dims (imported as a baseline) make head dim a choice of x, held at N = 32.
      const file = (await page.evaluate(() => window.__playground!.controller.resultsFile()))!;
      const other = (d: number, ms: number): ResultRecord => ({
        ...r32,
        shape: { ...r32.shape, headDim: d, scale: 1 / Math.sqrt(d) },
        medianMs: ms,
        p20Ms: ms * 0.9,
        p80Ms: ms * 1.1,
        tflops: r32.flops / (ms * 1e9),
      });
      await page.locator('input[type=file]').setInputFiles({
        name: 'head-dims.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify({ ...file, results: [other(16, 1), other(64, 4)] })),
      });
      const xAxis = page.getByRole('combobox', { name: 'X axis' });
      await expect.poll(() => xAxis.locator('option').allTextContents()).toEqual(['sequence length', 'head dim (at 32)']);
      await xAxis.selectOption('headDim');
      await expect.poll(async () => (await shown(page, metricChart)).xs).toEqual([16, 32, 64]);
      chart = await shown(page, metricChart);
      expect(chart.title).toBe(`${chart.yLabel} vs head dim (p20–p80 band)`);
      const byLabel = Object.fromEntries(chart.series.map((s) => [s.label, s.values]));
      expect(Object.keys(byLabel)).toEqual(['naive', 'flash', 'flash (baseline)']);
      expect(byLabel.flash![1]).toBeCloseTo(r32.tflops! * factor, 9);
      expect(byLabel['flash (baseline)']![0]).toBeCloseTo((r32.flops / 1e9) * factor, 9);
      expect(byLabel['flash (baseline)']![2]).toBeCloseTo((r32.flops / 4e9) * factor, 9);

      // SVG export: a standalone SVG naming every series; PNG export: a PNG.
      const plots = page.locator('results-plots');
      const [svgDownload] = await Promise.all([page.waitForEvent('download'), plots.getByRole('button', { name: `Export ${chart.title} as SVG` }).click()]);
      expect(svgDownload.suggestedFilename()).toMatch(/\.svg$/);
      const svg = await readFile((await svgDownload.path())!, 'utf8');
      expect(svg).toMatch(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      for (const label of ['naive', 'flash', 'flash (baseline)']) expect(svg).toContain(`data-series="${label}"`);
      const parsed = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        return { root: doc.documentElement.nodeName, errors: doc.getElementsByTagName('parsererror').length };
      }, svg);
      expect(parsed).toEqual({ root: 'svg', errors: 0 });
      const [pngDownload] = await Promise.all([page.waitForEvent('download'), plots.getByRole('button', { name: `Export ${chart.title} as PNG` }).click()]);
      expect((await readFile((await pngDownload.path())!)).subarray(1, 4).toString()).toBe('PNG');

      // Memory against N: naive's S (1·1·N²·4 bytes) passes the device's per-buffer limit at the first N with N²·4 > limit.
      const limits = await page.evaluate(() => window.__playground!.controller.caps!.limits);
      const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
      const stops = Math.floor(Math.sqrt(limit / 4)) + 1;
      const memory = page.locator('memory-panel');
      const naive = memory.locator('li[data-kernel=naive]');
      expect(await naive.getAttribute('data-stops-at')).toBe(String(stops));
      expect(await naive.textContent()).toContain(`naive stops fitting at N = ${stops}`);
      const memoryChart = await shown(page, 'memory-panel uplot-chart');
      expect(memoryChart.markers).toContainEqual({ x: stops, label: 'naive stops fitting', color: expect.any(String) });
      expect(memoryChart.series.at(-1)!.values.every((v) => v === limit)).toBe(true);
      expect(memoryChart.xs.at(-1)).toBeGreaterThanOrEqual(stops);
      await expect(memory.getByRole('img', { name: /^Memory per kernel vs N \(log–log\): naive total, flash total, / }).count()).resolves.toBe(1);

      expect(seen.errors).toEqual([]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'page-plots.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
