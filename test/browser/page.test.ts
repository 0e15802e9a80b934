import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, parseResultsFile } from '../../src/index.js';
import { ARTIFACTS, type PageWatch, type StaticServer, completedJobs, newContext, usePageServer, waitForJobs, watch } from './harness.js';

/*
 * The benchmark page, built with the project's Vite config and served from a subpath of a plain
 * static server, driven in Debian's headless Chromium on SwiftShader. SwiftShader compiles a flash
 * pipeline in seconds, so shapes are tiny and tile changes few; nothing here is skipped: without
 * Chromium or WebGPU every test fails.
 */

let server: StaticServer;
let browser: Browser;
usePageServer((s, b) => {
  server = s;
  browser = b;
});

interface Row {
  kernel: string;
  seq: number;
  status: string;
  source: string;
  tiles: string;
  statusText: string;
  speedup: string | null;
}

/** The results table as data (Playwright's CSS engine pierces the components' shadow roots). */
function tableRows(page: Page): Promise<Row[]> {
  return page.locator('results-table tbody:not(.baseline-only) tr[data-kernel]:not([data-source=previous])').evaluateAll((els) =>
    els.map((e) => {
      const el = e as HTMLElement;
      return {
        kernel: el.dataset.kernel!,
        seq: Number(el.dataset.seq),
        status: el.dataset.status!,
        source: el.dataset.source!,
        tiles: el.querySelector('[data-col=tiles]')!.textContent!.trim(),
        statusText: el.querySelector('[data-col=status]')!.textContent!.trim(),
        speedup: el.querySelector('[data-col=speedup]')?.textContent?.trim() ?? null,
      };
    }),
  );
}

const flashTiles = (page: Page) => page.getByRole('group', { name: 'flash tiles', exact: true });
const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
const label = (page: Page, name: string) => page.getByLabel(name, { exact: true });
/** A kernel's checkbox in the configuration (Compare across families has checkboxes named by kernel too). */
const kernelBox = (page: Page, name: string) => page.locator('config-panel').getByRole('checkbox', { name, exact: true });

async function openPage(context: BrowserContext, query = ''): Promise<{ page: Page; seen: PageWatch }> {
  const page = await context.newPage();
  const seen = watch(page);
  await page.goto(`${server.url}${query}`);
  return { page, seen };
}

async function waitForDevice(page: Page): Promise<void> {
  await page.locator('device-panel [data-field=vendor]').waitFor({ timeout: 60_000 });
}

/** Clicks a control and waits until the page has finished one more job than before. */
async function clickAndWait(page: Page, name: string): Promise<void> {
  const before = await completedJobs(page);
  await button(page, name).click();
  await waitForJobs(page, before + 1);
}

describe('benchmark page', () => {
  it('loads from a subpath of a static server, shows the adapter, features and limits, and asks no other host', async () => {
    const context = await newContext(browser);
    try {
      const { page, seen } = await openPage(context);
      await waitForDevice(page);
      expect(await page.locator('device-panel [data-field=vendor]').textContent()).not.toBe('—');
      expect(await page.locator('device-panel [data-field=architecture]').textContent()).toMatch(/\S/);
      expect(await page.locator('device-panel tr[data-feature="timestamp-query"]').textContent()).toMatch(/yes/);
      const storage = page.locator('device-panel tr[data-limit=maxComputeWorkgroupStorageSize]');
      expect(await storage.textContent()).toMatch(/16\.0 KiB.*32\.0 KiB/s);
      expect(await page.locator('device-panel [data-field=timing]').textContent()).toMatch(/GPU timestamps available/);
      // Every control the issue names, by its accessible name.
      for (const name of ['Sequence lengths', 'Head dim', 'Heads', 'KV heads', 'Batch', 'Causal']) {
        await expect(label(page, name).count(), name).resolves.toBe(1);
      }
      for (const name of ['Query tile (Br)', 'Key tile (Bc)', 'Workgroup size']) {
        await expect(flashTiles(page).getByLabel(name, { exact: true }).count(), name).resolves.toBe(1);
      }
      for (const name of ['Run', 'Stop', 'Autotune', 'Export JSON', 'Export CSV', 'Import results']) {
        await expect(button(page, name).count(), name).resolves.toBe(1);
      }
      const foreign = seen.requests.filter((u) => !u.startsWith(server.origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
      expect(foreign).toEqual([]);
      expect(seen.requests.some((u) => u.includes('/playground/assets/'))).toBe(true);
      expect(seen.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('says plainly when WebGPU is missing, and how to enable it', async () => {
    const context = await newContext(browser);
    try {
      await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
      const { page } = await openPage(context);
      const panel = page.locator('device-panel [role=alert]');
      await panel.waitFor();
      const text = await panel.textContent();
      expect(text).toMatch(/WebGPU is not available/);
      expect(text).toMatch(/enable-unsafe-webgpu/);
      expect(await button(page, 'Run').isDisabled()).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('restores the whole configuration from a shared URL, and keeps the URL in step with the form', async () => {
    const context = await newContext(browser);
    try {
      const query =
        '?f=dense&k=flash&b=2&h=4&kvh=2&n=16,48&d=32&causal=1&samples=4&tune=3&flash.br=16&flash.bc=16&flash.wg=32&flash.rowThreads=2&flash.subgroups=0';
      const { page, seen } = await openPage(context, query);
      await waitForDevice(page);
      expect(await label(page, 'Batch').inputValue()).toBe('2');
      expect(await label(page, 'Heads').inputValue()).toBe('4');
      expect(await label(page, 'KV heads').inputValue()).toBe('2');
      expect(await label(page, 'Head dim').inputValue()).toBe('32');
      expect(await label(page, 'Sequence lengths').inputValue()).toBe('16, 48');
      expect(await label(page, 'Causal').isChecked()).toBe(true);
      expect(await label(page, 'Samples').inputValue()).toBe('4');
      expect(await kernelBox(page, 'naive').isChecked()).toBe(false);
      expect(await kernelBox(page, 'flash').isChecked()).toBe(true);
      expect(await page.getByRole('group', { name: 'naive tiles' }).count()).toBe(0);
      expect(await flashTiles(page).getByLabel('Query tile (Br)', { exact: true }).inputValue()).toBe('16');
      expect(await flashTiles(page).getByLabel('Key tile (Bc)', { exact: true }).inputValue()).toBe('16');
      expect(await flashTiles(page).getByLabel('Workgroup size', { exact: true }).inputValue()).toBe('32');
      expect(await flashTiles(page).getByLabel('Threads per row', { exact: true }).inputValue()).toBe('2');
      expect(await flashTiles(page).getByLabel('Subgroup reductions', { exact: true }).inputValue()).toBe('0');
      expect(new URL(page.url()).search).toBe(query);

      await label(page, 'Heads').fill('8');
      await kernelBox(page, 'naive').check();
      await expect.poll(() => new URL(page.url()).searchParams.get('h')).toBe('8');
      expect(new URL(page.url()).searchParams.get('k')).toBe('naive,flash');
      expect(new URL(page.url()).searchParams.get('flash.br')).toBe('16');
      expect(seen.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  describe('one session: run, live tile edits, an impossible tile, export, import, reload, device loss', () => {
    // These steps share one page, in order, as a user's session would: each starts from the
    // state the previous one left, which keeps SwiftShader's pipeline compiles to a few.
    let context: BrowserContext;
    let page: Page;
    let seen: PageWatch;
    let exported: string;

    beforeAll(async () => {
      context = await newContext(browser);
      ({ page, seen } = await openPage(context));
      await waitForDevice(page);
    });

    afterAll(async () => {
      await context?.close();
    });

    it('a small run of both kernels, set up through the labelled controls, gives passing rows', async () => {
      await label(page, 'Sequence lengths').fill('16..128');
      await label(page, 'Head dim').fill('32');
      await label(page, 'Heads').fill('2');
      await label(page, 'KV heads').fill('1');
      await label(page, 'Batch').fill('1');
      await label(page, 'Samples').fill('5');
      expect(await label(page, 'Causal').isChecked()).toBe(false);
      await clickAndWait(page, 'Run');

      const rows = await tableRows(page);
      expect(rows.map((r) => `${r.kernel}:${r.seq}:${r.statusText}`)).toEqual([16, 32, 64, 128].flatMap((n) => [`naive:${n}:pass`, `flash:${n}:pass`]));
      // The float64 reference ran in its worker, not on the page's thread.
      expect(seen.workers.some((u) => /reference\.worker/.test(u))).toBe(true);
      const timing = await page.locator('results-table [data-col=timing]').allTextContents();
      expect(timing.every((t) => /^(timestamp|timestamp-coarse ×\d+|wall)/.test(t))).toBe(true);
      expect(await page.locator('results-plots .u-legend').first().textContent()).toMatch(/naive.*flash/s);
      expect(await page.locator('memory-panel td[data-kernel=naive]').first().textContent()).toMatch(/S .*\+ P /);
      expect(seen.errors).toEqual([]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'page-run.png'), fullPage: true });
    });

    it('changing "Query tile (Br)" re-runs flash (only) and the new rows carry the new value', async () => {
      const before = await tableRows(page);
      const jobs = await completedJobs(page);
      await flashTiles(page).getByLabel('Query tile (Br)', { exact: true }).selectOption('64');
      await waitForJobs(page, jobs + 1);
      const after = await tableRows(page);
      const flash = after.filter((r) => r.kernel === 'flash');
      expect(flash).toHaveLength(4);
      for (const r of flash) {
        expect(r.tiles).toMatch(/\bbr=64\b/);
        expect(r.statusText).toBe('pass');
      }
      expect(after.filter((r) => r.kernel === 'naive')).toEqual(before.filter((r) => r.kernel === 'naive'));
      expect(await flashTiles(page).getByText('pinned').count()).toBe(1);
      expect(new URL(page.url()).searchParams.get('flash.br')).toBe('64');
    });

    it('an impossible tile shows the limit and the number inline, is skipped, and the other kernel still runs', async () => {
      const tiles = flashTiles(page);
      await tiles.getByLabel('Query tile (Br)', { exact: true }).selectOption('128');
      await tiles.getByLabel('Key tile (Bc)', { exact: true }).selectOption('128');
      await tiles.getByLabel('Workgroup size', { exact: true }).selectOption('256');
      const problem = page.locator('tile-editor [data-problems=flash] .problem[data-limit=maxComputeWorkgroupStorageSize]');
      await problem.waitFor();
      expect(await problem.textContent()).toMatch(/needs \d+ bytes \([\d.]+ KiB\) but maxComputeWorkgroupStorageSize is 32768 bytes/);

      await clickAndWait(page, 'Run');
      const rows = await tableRows(page);
      expect(rows.filter((r) => r.kernel === 'naive').map((r) => r.statusText)).toEqual(Array(4).fill('pass'));
      expect(rows.filter((r) => r.kernel === 'flash').map((r) => r.statusText)).toEqual(Array(4).fill('skipped'));
      const reasons = await page.locator('results-table tr[data-reason-for=flash]').allTextContents();
      expect(reasons).toHaveLength(4);
      expect(reasons.every((t) => t.includes('maxComputeWorkgroupStorageSize is 32768 bytes'))).toBe(true);
      expect(seen.errors).toEqual([]);

      // Back to the device default: a live re-run with pipelines compiled by the first run.
      const jobs = await completedJobs(page);
      await page.getByRole('button', { name: 'Reset flash tiles to the device default' }).click();
      await waitForJobs(page, jobs + 1);
      expect((await tableRows(page)).map((r) => r.statusText)).toEqual(Array(8).fill('pass'));
      expect(await page.locator('tile-editor [data-problems=flash] .problem').count()).toBe(0);
    });

    it('"Export JSON" downloads a file that validates against the schema; "Import results" loads it as a baseline with per-row ratios', async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), button(page, 'Export JSON').click()]);
      expect(download.suggestedFilename()).toMatch(/^attention-results-.*\.json$/);
      exported = path.join(ARTIFACTS, 'page-export.json');
      await download.saveAs(exported);
      const file = parseResultsFile(await readFile(exported, 'utf8'));
      expect(file.context.runtime).toBe('browser');
      expect(file.context.adapter.vendor).not.toBe('');
      expect(file.results).toHaveLength(8);
      expect(file.results.every((r) => r.status === 'ok' && r.check?.ok && r.tag === 'page')).toBe(true);
      expect(new Set(file.results.map((r) => r.kernel))).toEqual(new Set(['naive', 'flash']));

      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button(page, 'Import results').click()]);
      await chooser.setFiles(exported);
      await page.locator('[data-baseline]').waitFor();
      expect(await page.locator('[data-baseline]').textContent()).toMatch(/page-export\.json, 8 results/);
      const rows = await tableRows(page);
      expect(rows.map((r) => r.speedup)).toEqual(Array(8).fill('1.00×'));
      expect(await page.locator('results-plots .u-legend').first().textContent()).toMatch(/naive \(baseline\).*flash \(baseline\)/s);
      await page.screenshot({ path: path.join(ARTIFACTS, 'page-baseline.png'), fullPage: true });
    });

    it('an import that is not a results file is refused with the path of the problem', async () => {
      const bad = path.join(ARTIFACTS, 'page-not-results.json');
      await writeFile(bad, JSON.stringify({ format: 'webgpu-attention-results', version: 1, results: [] }));
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button(page, 'Import results').click()]);
      await chooser.setFiles(bad);
      const notice = page.locator('[data-banner=notice][role=alert]');
      await notice.waitFor();
      expect(await notice.textContent()).toMatch(/page-not-results\.json: not a valid results file:.*context/s);
      // The baseline loaded before stays.
      expect(await page.locator('[data-baseline]').textContent()).toMatch(/page-export\.json/);
    });

    it('"Export CSV" downloads one row per result with the CLI\'s columns', async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), button(page, 'Export CSV').click()]);
      const csv = await readFile(await download.path(), 'utf8');
      const lines = csv.trim().split('\n');
      expect(lines[0]).toBe(
        ['family', 'kernel', 'status', 'precision', 'batch', 'heads', 'kvHeads', 'seqQ', 'seqK', 'headDim', 'causal', 'scale', ...CSV_COLUMNS.slice(4)].join(
          ',',
        ),
      );
      expect(lines).toHaveLength(9);
    });

    it('"Copy JSON" puts the same results file on the clipboard', async () => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
      await button(page, 'Copy JSON').click();
      await page.locator('[data-banner=notice]', { hasText: 'Copied 8 results as JSON' }).waitFor();
      const copied = parseResultsFile(await page.evaluate(() => navigator.clipboard.readText()));
      expect(copied.results).toEqual(parseResultsFile(await readFile(exported, 'utf8')).results);
    });

    it('results, baseline and configuration survive a reload', async () => {
      const before = await tableRows(page);
      await page.reload();
      await waitForDevice(page);
      expect(await tableRows(page)).toEqual(before);
      expect(await page.locator('[data-baseline]').textContent()).toMatch(/page-export\.json, 8 results/);
      expect(await label(page, 'Sequence lengths').inputValue()).toBe('16, 32, 64, 128');
      expect(await label(page, 'Head dim').inputValue()).toBe('32');
    });

    it('a bare URL (no query) restores the kept configuration with the results', async () => {
      await page.goto(server.url);
      await waitForDevice(page);
      expect(await label(page, 'Head dim').inputValue()).toBe('32');
      expect(await label(page, 'Sequence lengths').inputValue()).toBe('16, 32, 64, 128');
      expect(new URL(page.url()).searchParams.get('d')).toBe('32');
    });

    it('a value out of range keeps what was typed, says why, and changes nothing', async () => {
      await label(page, 'Head dim').fill('2000');
      expect(await label(page, 'Head dim').inputValue()).toBe('2000');
      expect(await page.locator('config-panel .problem', { hasText: 'Head dim: a whole number from 1 to 1024' }).count()).toBe(1);
      expect(new URL(page.url()).searchParams.get('d')).toBe('32');
      await label(page, 'Head dim').fill('32');
      expect(await page.locator('config-panel .problem', { hasText: 'Head dim' }).count()).toBe(0);
    });

    it('the memory table shows the tensors even with no kernel selected', async () => {
      await kernelBox(page, 'naive').uncheck();
      await kernelBox(page, 'flash').uncheck();
      const first = page.locator('memory-panel tbody tr').first();
      expect(await first.locator('td').nth(1).textContent()).not.toMatch(/^\s*0 B\s*$/);
      await kernelBox(page, 'naive').check();
      await kernelBox(page, 'flash').check();
    });

    it('device loss shows a banner; a new device keeps the results; uncaptured WebGPU errors are shown', async () => {
      const before = await tableRows(page);
      await page.evaluate(() => window.__playground!.loseDevice());
      const banner = page.locator('[data-banner=lost]');
      await banner.waitFor();
      expect(await banner.textContent()).toMatch(/The GPU device was lost.*Your results are kept/s);
      expect(await button(page, 'Run').isDisabled()).toBe(true);
      expect(await tableRows(page)).toEqual(before);

      await button(page, 'Get a new device').click();
      await waitForDevice(page);
      expect(await banner.count()).toBe(0);
      expect(await button(page, 'Run').isEnabled()).toBe(true);
      expect(await tableRows(page)).toEqual(before);

      // A buffer with no usage is a validation error that no error scope catches.
      // The GPU process reports it once the queue is flushed.
      await page.evaluate(async () => {
        const device = window.__playground!.controller.device.gpu!.device;
        device.createBuffer({ size: 4, usage: 0 });
        await device.queue.onSubmittedWorkDone();
      });
      const message = page.locator('message-log li[data-level=error]', { hasText: 'Uncaptured WebGPU error' });
      await message.first().waitFor();
      expect(await page.locator('message-log ul').textContent()).toMatch(/device was lost/);
    });
  });

  it('Stop cancels a sweep part-way, and the page takes input while it runs', async () => {
    const context = await newContext(browser);
    try {
      const { page } = await openPage(context, '?k=naive&b=1&h=1&kvh=1&d=32&n=16..4096&samples=50');
      await waitForDevice(page);
      const jobs = await completedJobs(page);
      await button(page, 'Run').click();
      await page.locator('[data-job=running]').waitFor();
      await page.locator('results-table tr[data-kernel=naive]').first().waitFor();
      await label(page, 'Samples').fill('7');
      await button(page, 'Stop').click();
      await waitForJobs(page, jobs + 1);
      expect(await page.locator('[data-banner=notice]').textContent()).toMatch(/stopped/);
      const rows = await tableRows(page);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.length).toBeLessThan(9);
      expect(new URL(page.url()).searchParams.get('samples')).toBe('7');
    } finally {
      await context.close();
    }
  });

  it('Autotune tunes a tiny shape on its longest length, pins each kernel’s best tiles and adds the checked finalists', async () => {
    const context = await newContext(browser);
    try {
      const { page, seen } = await openPage(context, '?k=naive,flash&b=1&h=1&kvh=1&d=32&n=16,32&samples=3&tune=2');
      await waitForDevice(page);
      await clickAndWait(page, 'Autotune');
      const tunings = await page.evaluate(() =>
        window.__playground!.controller.tunings.map(({ tuning }) => ({ kernel: tuning.kernel, best: tuning.best, measured: tuning.measured })),
      );
      expect(tunings.map((t) => t.kernel)).toEqual(['naive', 'flash']);
      for (const t of tunings) {
        expect(t.measured).toBe(2);
        expect(t.best).not.toBeNull();
        const summary = page.locator(`autotune-panel [data-kernel=${t.kernel}] [data-best]`);
        expect(await summary.textContent()).toBe(
          Object.entries(t.best!)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        );
      }
      const flashBest = tunings.find((t) => t.kernel === 'flash')!.best!;
      const tiles = flashTiles(page);
      expect(await tiles.getByLabel('Query tile (Br)', { exact: true }).inputValue()).toBe(String(flashBest.br));
      expect(await tiles.getByLabel('Key tile (Bc)', { exact: true }).inputValue()).toBe(String(flashBest.bc));
      expect(await tiles.getByLabel('Workgroup size', { exact: true }).inputValue()).toBe(String(flashBest.wg));
      expect(new URL(page.url()).searchParams.get('flash.br')).toBe(String(flashBest.br));

      const rows = await tableRows(page);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const r of rows) {
        expect(r.source).toBe('autotune');
        expect(r.seq).toBe(32);
        expect(r.statusText).toBe('pass');
      }
      expect(new Set(rows.map((r) => r.kernel))).toEqual(new Set(['naive', 'flash']));
      expect(seen.errors).toEqual([]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'page-autotune.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
