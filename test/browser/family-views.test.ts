import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type StaticServer, newContext, watch, usePageServer } from './harness.js';

/*
 * The family views, driven by accessible names in headless Chromium: choosing a family in the
 * "Family" select shows that family's view and no other. Nothing here runs a kernel, so the test
 * costs one build, one browser and one device.
 */

let server: StaticServer;
let browser: Browser;
usePageServer((s, b) => {
  server = s;
  browser = b;
});

const VIEWS = ['Block map', 'Visited tiles', 'State vs KV cache', 'KV memory vs context length'] as const;
const region = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

/** Chooses a family by the select's accessible name and checks that exactly `view` (or none) is shown. */
async function choose(page: Page, family: string, view: (typeof VIEWS)[number] | null): Promise<void> {
  await page.getByLabel('Family', { exact: true }).selectOption(family);
  await expect.poll(() => new URL(page.url()).searchParams.get('f')).toBe(family);
  for (const name of VIEWS) await expect(region(page, name).count(), `${family}: ${name}`).resolves.toBe(name === view ? 1 : 0);
}

describe('family views', () => {
  it('each long-context family shows its own view, by accessible name, with its numbers', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const seen = watch(page);
      await page.goto(`${server.url}?f=dense`);
      await page.locator('device-panel [data-field=vendor]').waitFor({ timeout: 60_000 });
      for (const name of VIEWS) expect(await region(page, name).count(), name).toBe(0);

      // kvcache: 4096 tokens in blocks of 16 at the smallest default length, random 50% eviction.
      await choose(page, 'kvcache', 'Block map');
      const map = region(page, 'Block map');
      expect(await map.locator('[data-map=before] [data-state]').count()).toBe(256);
      expect(await map.locator('[data-map=after] [data-state]').count()).toBe(256);
      const freedBefore = Number(await map.locator('[data-field=freed-before]').textContent());
      const freedAfter = Number(await map.locator('[data-field=freed-after]').textContent());
      expect(freedBefore).toBeLessThanOrEqual(2);
      expect(freedAfter).toBeGreaterThan(100);
      expect(await map.locator('[data-map=after] [data-state=free]').count()).toBe(freedAfter);
      await expect(map.getByRole('img', { name: /^Before compaction/ }).count()).resolves.toBe(1);
      expect(await map.locator('[data-field=bytes-moved]').textContent()).toMatch(/MiB/);

      // window: the kernel's tile walk beside causal dense, both at 256 tokens.
      await choose(page, 'window', 'Visited tiles');
      const tiles = region(page, 'Visited tiles');
      const fraction = async (name: string) => Number(await tiles.locator(`[data-grid=${name}]`).getAttribute('data-fraction'));
      expect(await fraction('window')).toBeGreaterThan(0);
      expect(await fraction('window')).toBeLessThan(await fraction('dense'));
      expect(await tiles.locator('[data-grid=window] [data-on="1"]').count()).toBeGreaterThan(0);
      expect(await tiles.getByRole('img').count()).toBe(2);

      // topk: tiles holding a selected key; dense in tiles, sparse in pairs.
      await choose(page, 'topk', 'Visited tiles');
      expect(await tiles.locator('[data-grid=topk]').count()).toBe(1);
      expect(await tiles.locator('[data-summary]').textContent()).toMatch(/of tiles visited/);

      // linear: 4 heads of 64×64 f32 against 2 KiB of K and V per token: equal at 32 tokens.
      await choose(page, 'linear', 'State vs KV cache');
      const linear = region(page, 'State vs KV cache');
      expect(await linear.locator('[data-crossover]').getAttribute('data-crossover')).toBe('32');
      expect(await linear.locator('[data-crossover]').textContent()).toMatch(/64\.0 KiB/);
      await linear.locator('uplot-chart canvas').first().waitFor();

      // decode: 8 KV heads of 128: 8 KiB per token in f32, 4 KiB in f16; limits are the device's.
      await choose(page, 'decode', 'KV memory vs context length');
      const decode = region(page, 'KV memory vs context length');
      expect(await decode.locator('[data-per-token] [data-kv-type=f32]').textContent()).toBe('8.00 KiB');
      expect(await decode.locator('[data-per-token] [data-kv-type=f16]').textContent()).toBe('4.00 KiB');
      const binding = await page.evaluate(() => window.__playground!.controller.caps!.limits.maxStorageBufferBindingSize);
      const n = await decode.locator('li[data-kv-type=f32][data-limit=maxStorageBufferBindingSize]').getAttribute('data-n');
      // One K buffer holds 4 KiB per token in f32: the first length past the binding limit, if the field reaches it.
      expect(n === '' ? null : Number(n)).toBe(Math.floor(binding / 4096) + 1 <= 1 << 20 ? Math.floor(binding / 4096) + 1 : null);
      await decode.locator('uplot-chart canvas').first().waitFor();

      await choose(page, 'dense', null);
      expect(seen.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
