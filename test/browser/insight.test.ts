import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Ceilings, ResultRecord } from '../../src/index.js';
import { ARTIFACTS, ROOT, type StaticServer, completedJobs, newContext, waitForJobs, watch, usePageServer } from './harness.js';

/*
 * The "show why" views on SwiftShader, each driven by its accessible name: ceilings from the
 * device panel, the roofline's points against the records they come from, the shader of a row,
 * and the KV calculator's bytes for a preset.
 */

let server: StaticServer;
let browser: Browser;
usePageServer((s, b) => {
  server = s;
  browser = b;
});

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

async function clickAndWait(page: Page, name: string): Promise<void> {
  const before = await completedJobs(page);
  await button(page, name).click();
  await waitForJobs(page, before + 1);
}

describe('insight views', () => {
  it('measures ceilings, places each result on the roofline, shows its shader and sizes KV caches', async () => {
    const context = await newContext(browser);
    try {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
      const page = await context.newPage();
      const seen = watch(page);
      await page.goto(`${server.url}?k=naive,flash&b=1&h=1&kvh=1&d=32&n=16,32&samples=3`);
      await page.locator('device-panel [data-field=vendor]').waitFor({ timeout: 60_000 });

      // The roofline: one point per timed result at the record's intensity and TFLOP/s.
      await clickAndWait(page, 'Run');
      const results = (await page.evaluate(() => window.__playground!.controller.results)) as ResultRecord[];
      expect(results).toHaveLength(4);
      const roofline = page.getByRole('region', { name: 'Roofline' });

      // Before this device measured any, an imported results file's ceilings draw the roofs.
      const file = await page.evaluate(() => window.__playground!.controller.resultsFile());
      const imported: Ceilings = {
        copyGBps: 1,
        f32Tflops: 0.001,
        probes: { copy: [{ bytes: 4096, gbps: 1 }], compute: { invocations: 1, chains: 1, iterations: 1 }, method: 'wall' },
      };
      await page.locator('input[type=file]').setInputFiles({
        name: 'with-ceilings.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify({ ...file, context: { ...file!.context, ceilings: imported } })),
      });
      await expect
        .poll(() => roofline.locator('figcaption').textContent())
        .toMatch(/Roofs measured in with-ceilings\.json .*bandwidth 1\.00 GB\/s, f32 FMA 0\.00100 TFLOP\/s/);

      // Ceilings measured here, from the device panel's button, take over.
      await clickAndWait(page, 'Measure ceilings');
      const ceilings = (await page.evaluate(() => window.__playground!.controller.ceilings)) as Ceilings;
      expect(ceilings.copyGBps).toBeGreaterThan(0);
      const panel = page.getByRole('region', { name: 'Device' });
      expect(await panel.locator('[data-ceiling=copy]').textContent()).toBe(`${ceilings.copyGBps.toPrecision(3)} GB/s`);
      expect(await panel.locator('[data-ceiling=f16]').textContent()).toMatch(/no shader-f16/);

      await expect.poll(() => roofline.locator('figcaption').textContent()).toMatch(/Roofs measured on this device/);
      await expect(roofline.getByRole('img', { name: /^Roofline: 4 results of naive, flash under the measured roofs$/ }).count()).resolves.toBe(1);
      await roofline.getByText('Points (4)').click();
      const table = roofline.getByRole('table', { name: 'Roofline points' });
      const points = await table.locator('tbody tr').evaluateAll((rows) =>
        rows.map((r) => ({
          ...((r as HTMLElement).dataset as Record<string, string>),
          cells: [...r.querySelectorAll('td')].map((td) => td.textContent!.trim()),
        })),
      );
      expect(points).toHaveLength(4);
      for (const [i, r] of results.entries()) {
        const p = points[i]! as Record<string, string> & { cells: string[] };
        expect(p.kernel).toBe(r.kernel);
        expect(Number(p.x)).toBe(r.intensity);
        expect(Number(p.x)).toBeCloseTo(r.flops / r.bytes, 12);
        expect(Number(p.y)).toBe(r.tflops);
        expect(p.label).toBe(String(r.shape.seqK));
        const bound = Math.min(ceilings.f32Tflops, (r.intensity! * ceilings.copyGBps) / 1e3);
        expect(p.cells[4]).toBe(`${((r.tflops! / bound) * 100).toFixed(1)}%`);
      }
      // Naive moves S and P: far lower intensity than flash on the same shape.
      const at = (kernel: string) => results.find((r) => r.kernel === kernel && r.shape.seqK === 32)!.intensity!;
      expect(at('naive')).toBeLessThan(at('flash'));
      const [svgDownload] = await Promise.all([page.waitForEvent('download'), roofline.getByRole('button', { name: 'Export SVG' }).click()]);
      const svg = await readFile((await svgDownload.path())!, 'utf8');
      expect(svg.match(/<circle /g)).toHaveLength(4);
      const [pngDownload] = await Promise.all([page.waitForEvent('download'), roofline.getByRole('button', { name: 'Export PNG' }).click()]);
      expect((await readFile((await pngDownload.path())!)).subarray(1, 4).toString()).toBe('PNG');

      // The shader of the flash row at 32: each pipeline's WGSL, and Copy puts exactly it on the clipboard.
      const shaderRegion = page.getByRole('region', { name: 'Shader' });
      const flashIndex = results.findIndex((r) => r.kernel === 'flash' && r.shape.seqK === 32);
      await shaderRegion.getByLabel('Result to show the shader of').selectOption(String(flashIndex));
      const first = shaderRegion.locator('section[data-shader]').first();
      await first.waitFor();
      const label = (await first.getAttribute('data-shader'))!;
      const code = (await first.locator('code').textContent())!;
      expect(code).toMatch(/@compute/);
      await shaderRegion.getByRole('button', { name: `Copy ${label}` }).click();
      await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(code);

      // KV memory: Llama-3-8B is 128 KiB per token in f16, 16 GiB at 131072 tokens; f32 doubles it.
      const kv = page.getByRole('region', { name: 'KV memory' });
      const llama = kv.getByRole('table', { name: 'KV memory' }).locator('tr[data-preset=llama3-8b]');
      expect(await llama.getAttribute('data-bytes')).toBe(String(16 * 2 ** 30));
      expect(await llama.getAttribute('data-per-token')).toBe(String(128 * 1024));
      await kv.getByLabel('Element type').selectOption('f32');
      await kv.getByLabel('Context tokens').fill('1048576');
      await kv.getByLabel('Context tokens').press('Enter');
      await expect.poll(() => llama.getAttribute('data-bytes')).toBe(String(256 * 2 ** 30));
      expect(await kv.locator('tr[data-preset=mistral-7b]').getAttribute('data-bytes')).toBe(String(4096 * 65536 * 4));
      await kv.getByLabel('Preset').selectOption('llama3-8b');
      await kv.getByRole('button', { name: 'Use this shape' }).click();
      const shape = await page.evaluate(() => window.__playground!.controller.config.shape);
      expect(shape).toMatchObject({ heads: 32, kvHeads: 8, headDim: 128 });
      expect(new URL(page.url()).searchParams.get('h')).toBe('32');
      // DeepSeek-V3's shape is MLA's: the page switches to the mla family at 128 heads, latent 512, RoPE key 64.
      await kv.getByLabel('Preset').selectOption('deepseek-v3');
      await kv.getByRole('button', { name: 'Use this shape' }).click();
      const mla = await page.evaluate(() => window.__playground!.controller.config);
      expect(mla.family).toBe('mla');
      expect(mla.shape).toMatchObject({ heads: 128, kvLora: 512, ropeDim: 64 });
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({ f: 'mla', h: '128', kvl: '512', rope: '64' });

      expect(seen.errors).toEqual([]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'page-insight.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it("draws an imported H200 results file's points under that file's own roofs, not this device's", async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const seen = watch(page);
      await page.goto(`${server.url}?k=naive,flash&b=1&h=1&kvh=1&d=32&n=16&samples=2`);
      await page.locator('device-panel [data-field=vendor]').waitFor({ timeout: 60_000 });
      const name = 'h200-roofline.json';
      const text = await readFile(path.join(ROOT, 'bench/results', name), 'utf8');
      const file = JSON.parse(text) as { results: ResultRecord[]; context: { ceilings: Ceilings } };
      await page.getByLabel('Results file to import').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
      const roofline = page.getByRole('region', { name: 'Roofline' });
      await expect.poll(() => roofline.locator('figcaption').textContent()).toMatch(/Roofs measured in h200-roofline\.json \(NVIDIA/);
      // The file's matrix-unit rate was struck out: the caption says so and no such roof is drawn.
      await expect(roofline.locator('[data-mma-rejected]').count()).resolves.toBe(1);
      expect(await roofline.locator('figcaption').textContent()).not.toMatch(/subgroup matrix \d/);
      const timed = file.results.filter((r) => r.status === 'ok' && r.tflops !== null);
      await roofline.getByText(`Points (${timed.length})`).click();
      const rows = await roofline
        .getByRole('table', { name: 'Roofline points' })
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((r) => ({ ...(r as HTMLElement).dataset })));
      expect(rows).toHaveLength(timed.length);
      for (const [i, r] of timed.entries()) {
        expect(rows[i]).toMatchObject({ kernel: r.kernel, x: String(r.intensity), y: String(r.tflops), label: String(r.shape.seqK) });
      }

      // A multi-pass kernel's stage shares sit under its median in the results table.
      const topk = await readFile(path.join(ROOT, 'bench/results/h200-topk.json'), 'utf8');
      await page.getByLabel('Results file to import').setInputFiles({ name: 'h200-topk.json', mimeType: 'application/json', buffer: Buffer.from(topk) });
      const last = (JSON.parse(topk) as { results: ResultRecord[] }).results.find((r) => r.shape.seqK === 65536)!;
      const total = last.stages!.reduce((a, st) => a + st.medianMs, 0);
      const shares = last.stages!.map((st) => `${st.name} ${Math.round((100 * st.medianMs) / total)}%`).join(' · ');
      await expect.poll(() => page.getByRole('region', { name: 'Results' }).locator('tr[data-seq="65536"] [data-stages]').textContent()).toBe(shares);
      await page.getByLabel('Results file to import').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });

      // A run here goes under this page's results, never under the H200's roofs.
      await clickAndWait(page, 'Run');
      await roofline.getByLabel('Roofline points from').selectOption('page');
      await expect.poll(() => roofline.getByRole('img').getAttribute('aria-label')).toBe('Roofline: 2 results of naive, flash');
      await expect(roofline.locator('figcaption').textContent()).resolves.toMatch(/No ceilings yet/);
      expect(seen.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
