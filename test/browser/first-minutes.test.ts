import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, type StaticServer, completedJobs, waitForJobs, watch, usePageServer } from './harness.js';

/*
 * What a new user met in the first five minutes on SwiftShader (the page's software adapter here):
 * a Run of several minutes with no warning, a frozen elapsed counter, a Stop that seemed to do
 * nothing, Run below the fold, a results table that scrolled sideways, unreadable throughput
 * figures, noise coloured as a loss, and no way to compare before and after a tile edit.
 */

let server: StaticServer;
let browser: Browser;
usePageServer((s, b) => {
  server = s;
  browser = b;
});

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
const label = (page: Page, name: string) => page.getByLabel(name, { exact: true });

async function open(width: number, height: number, query = ''): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true, colorScheme: 'light' });
  const page = await context.newPage();
  const { errors } = watch(page);
  await page.goto(`${server.url}${query}`);
  await page.locator('device-panel [data-field=vendor]').waitFor({ timeout: 60_000 });
  return { context, page, errors };
}

describe('the first minutes on a software adapter', () => {
  it('starts from a small preset, shows the estimate beside Run, and Run is above the fold at 1400×1000', async () => {
    const { context, page, errors } = await open(1400, 1000);
    try {
      expect(await page.evaluate(() => window.__playground!.controller.device.gpu!.adapter.software)).toBe(true);
      expect(await label(page, 'Sequence lengths').inputValue()).toBe('64, 128, 256');
      expect(await label(page, 'Heads').inputValue()).toBe('2');
      expect(await label(page, 'Head dim').inputValue()).toBe('32');
      expect(new URL(page.url()).searchParams.get('n')).toBe('64,128,256');

      const run = await button(page, 'Run').boundingBox();
      expect(run).not.toBeNull();
      expect(run!.y + run!.height).toBeLessThanOrEqual(1000);
      const estimate = page.locator('config-panel [data-estimate]');
      expect(await estimate.textContent()).toMatch(/Run: 6 cases, (about \d+ s|under a second)/);
      const box = await estimate.boundingBox();
      expect(Math.abs(box!.y - run!.y)).toBeLessThan(120);
      expect(await estimate.getAttribute('class')).not.toMatch(/\blong\b/);

      // The GPU-sized shape a link may ask for: the estimate warns before anything starts.
      await label(page, 'Sequence lengths').fill('256..2048');
      await label(page, 'Heads').fill('8');
      await label(page, 'Head dim').fill('64');
      await expect.poll(() => estimate.textContent()).toMatch(/Run: 8 cases, about \d+ (s|min) — a long run/);
      expect(await estimate.getAttribute('class')).toMatch(/\blong\b/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'first-minutes-1400.png') });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a link keeps its own shape on a software adapter', async () => {
    const { context, page } = await open(1400, 1000, '?h=8&n=512');
    try {
      expect(await label(page, 'Heads').inputValue()).toBe('8');
      expect(await label(page, 'Sequence lengths').inputValue()).toBe('512');
      expect(await label(page, 'Head dim').inputValue()).toBe('32');
    } finally {
      await context.close();
    }
  });

  it('the elapsed time ticks every second during a long stage, and Stop says "Stopping…" until the job has stopped', async () => {
    const { context, page, errors } = await open(1400, 1000, '?k=naive&b=1&h=4&kvh=4&d=32&n=1024,2048&samples=10');
    try {
      const jobs = await completedJobs(page);
      await button(page, 'Run').click();
      // The progress line reads "0 of 2 · 7 s"; only the seconds are compared.
      const status = page.locator('section[aria-label=Progress] [data-job=running]');
      await status.waitFor();
      const elapsed = { textContent: async () => /· (\d+) s/.exec((await status.textContent()) ?? '')?.[1] ?? '' };
      // Sample the counter for six seconds: it must never stand still for much over a second.
      const seen: { t: number; text: string }[] = [];
      const start = Date.now();
      while (Date.now() - start < 6000) {
        seen.push({ t: Date.now(), text: (await elapsed.textContent()) ?? '' });
        await page.waitForTimeout(150);
      }
      let longest = 0;
      let since = seen[0]!.t;
      for (let i = 1; i < seen.length; i++) {
        if (seen[i]!.text !== seen[i - 1]!.text) since = seen[i]!.t;
        longest = Math.max(longest, seen[i]!.t - since);
      }
      expect(new Set(seen.map((s) => s.text)).size).toBeGreaterThanOrEqual(5);
      expect(longest).toBeLessThan(2000);

      // Stop during a timing loop (which runs to its end): the change shows at once.
      await page.locator('job-status', { hasText: 'timing' }).waitFor({ timeout: 60_000 });
      await button(page, 'Stop').click();
      await page.locator('job-status [data-job=stopping]').waitFor({ timeout: 1000 });
      const stopping = page.getByRole('button', { name: 'Stopping the running job', exact: true });
      expect(await stopping.textContent()).toMatch(/Stopping…/);
      expect(await stopping.isDisabled()).toBe(true);
      expect(await button(page, 'Stopping…').isDisabled()).toBe(true);
      await waitForJobs(page, jobs + 1);
      await page.locator('job-status [data-job=idle]').waitFor();
      expect(await button(page, 'Stop').isDisabled()).toBe(true);
      expect(await page.locator('[data-banner=notice]').textContent()).toMatch(/stopped/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  describe('one session at 1400×1000: results with a baseline, then a tile edit, then a phone', () => {
    let context: BrowserContext;
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      ({ context, page, errors } = await open(1400, 1000, '?k=naive,flash&b=1&h=2&kvh=2&d=32&n=16,32&samples=5'));
      const jobs = await completedJobs(page);
      await button(page, 'Run').click();
      await waitForJobs(page, jobs + 1);
    });

    afterAll(async () => {
      await context?.close();
    });

    it('rates carry units, the TFLOP/s axis label clears its ticks, and the table fits with Baseline and Speedup', async () => {
      const flops = await page.locator('results-table [data-col=flops]').allTextContents();
      expect(flops).toHaveLength(4);
      for (const f of flops) expect(f.trim()).toMatch(/^\d[\d.]* [kMGT]?FLOP\/s$/);
      for (const b of await page.locator('results-table [data-col=bytes]').allTextContents()) expect(b.trim()).toMatch(/^\d[\d.]* [kMGT]?B\/s$/);

      // Baseline: this run, with one row made ten times slower so that it is a clear win.
      const [download] = await Promise.all([page.waitForEvent('download'), button(page, 'Export JSON').click()]);
      const file = JSON.parse(await readFile(await download.path(), 'utf8'));
      const slow = file.results.find((r: { kernel: string; shape: { seqK: number } }) => r.kernel === 'naive' && r.shape.seqK === 32);
      for (const key of ['medianMs', 'p20Ms', 'p80Ms', 'minMs']) slow[key] *= 10;
      const baseline = path.join(ARTIFACTS, 'first-minutes-baseline.json');
      await writeFile(baseline, JSON.stringify(file));
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button(page, 'Import results').click()]);
      await chooser.setFiles(baseline);
      await page.locator('[data-baseline]').waitFor();

      // The same measurement twice is 1.00×: neutral, neither a win nor a loss.
      const cells = await page
        .locator('results-table tr[data-kernel] [data-col=speedup]')
        .evaluateAll((els) =>
          els.map((e) => ({ kernel: e.parentElement!.dataset.kernel, seq: e.parentElement!.dataset.seq, text: e.textContent!.trim(), cls: e.className })),
        );
      expect(cells).toHaveLength(4);
      for (const c of cells) {
        if (c.kernel === 'naive' && c.seq === '32') expect(c.cls).toMatch(/\bfaster\b/);
        else {
          expect(c.text).toBe('1.00×');
          expect(c.cls).not.toMatch(/faster|slower/);
        }
      }

      await page.screenshot({ path: path.join(ARTIFACTS, 'first-minutes-table.png'), fullPage: true });
      const scroll = page.locator('results-table .scroll');
      const { scrollWidth, clientWidth } = await scroll.evaluate((e) => ({ scrollWidth: e.scrollWidth, clientWidth: e.clientWidth }));
      expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
      for (const name of ['Baseline ms', 'Speedup']) {
        const box = await page.locator('results-table th', { hasText: name }).boundingBox();
        expect(box!.x + box!.width, name).toBeLessThanOrEqual(1400);
      }
      // Tiles: two lines at most, the full list in the title.
      const tiles = page.locator('results-table tr[data-kernel=flash] [data-col=tiles]').first();
      const full = await tiles.getAttribute('title');
      expect(full).toMatch(/br=\d+/);
      const lines = await tiles.locator('span').evaluate((e) => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight || '16'));
      expect(lines).toBeLessThanOrEqual(2.05);

      // The throughput chart: its unit fits SwiftShader's numbers and no tick label runs under the axis title.
      const axis = await page
        .locator('results-plots uplot-chart')
        .nth(1)
        .evaluate((el) => {
          const u = (el as unknown as { chart: any }).chart;
          const y = u.axes[1];
          u.ctx.save();
          u.ctx.font = y.font[0];
          const widest = Math.max(...(y._values as string[]).map((v) => u.ctx.measureText(v).width)) / devicePixelRatio;
          u.ctx.restore();
          return {
            label: y.label as string,
            size: y._size as number,
            gap: y.gap as number,
            ticks: y.ticks.size as number,
            widest,
            values: y._values as string[],
          };
        });
      expect(axis.label).toMatch(/^[kMG]?FLOP\/s$/);
      expect(axis.size).toBeGreaterThanOrEqual(axis.widest + axis.ticks + axis.gap);
      await page.screenshot({ path: path.join(ARTIFACTS, 'first-minutes-table.png'), fullPage: true });
      expect(errors).toEqual([]);
    });

    it('a tile edit keeps the previous configuration’s rows, marked and dashed, until "Clear previous"', async () => {
      const before = await page.locator('results-table tr[data-kernel=flash][data-source=run] [data-col=tiles]').first().getAttribute('title');
      const br = page.getByRole('group', { name: 'flash tiles', exact: true }).getByLabel('Query tile (Br)', { exact: true });
      const current = await br.inputValue();
      const options = await br.locator('option:not([disabled])').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
      const next = options.find((v) => v !== current && Number(v) <= 32) ?? options.find((v) => v !== current)!;
      const jobs = await completedJobs(page);
      await br.selectOption(next);
      await waitForJobs(page, jobs + 1);

      const previous = page.locator('results-table tr[data-kernel=flash][data-source=previous]');
      expect(await previous.count()).toBe(2);
      for (const t of await previous.locator('[data-col=tiles]').evaluateAll((els) => els.map((e) => e.getAttribute('title')))) expect(t).toBe(before);
      expect(await previous.first().textContent()).toMatch(/previous/);
      const now = await page.locator('results-table tr[data-kernel=flash][data-source=run] [data-col=tiles]').first().getAttribute('title');
      expect(now).toMatch(new RegExp(`\\bbr=${next}\\b`));
      expect(await page.locator('results-plots .u-legend').first().textContent()).toMatch(/flash \(previous\)/);

      await button(page, 'Clear previous').click();
      expect(await previous.count()).toBe(0);
      expect(await button(page, 'Clear previous').count()).toBe(0);
      expect(await page.locator('results-plots .u-legend').first().textContent()).not.toMatch(/previous/);
      expect(errors).toEqual([]);
    });

    it('at 420 px wide the page, device panel included, does not scroll sideways', async () => {
      await page.setViewportSize({ width: 420, height: 900 });
      await page.waitForTimeout(300);
      const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: innerWidth }));
      expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
      const panel = await page.locator('device-panel section').evaluate((e) => ({ scroll: e.scrollWidth, client: e.clientWidth }));
      expect(panel.scroll).toBeLessThanOrEqual(panel.client);
      await page.screenshot({ path: path.join(ARTIFACTS, 'first-minutes-420.png'), fullPage: true });
    });
  });
});
