import { mkdir, rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { ARTIFACTS, type StaticServer, buildPage, launchChromium, serveStatic } from './page-server.js';

export * from './page-server.js';

/**
 * The page built with the project's Vite config, served from a subpath and a Chromium to drive it,
 * for one test file: built before its tests, torn down after them. `ready` receives the server and
 * the browser.
 */
export function usePageServer(ready: (server: StaticServer, browser: Browser) => void): void {
  let dist: string | undefined;
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    dist = await buildPage();
    server = await serveStatic(dist);
    browser = await launchChromium();
    ready(server, browser);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dist) await rm(dist, { recursive: true, force: true });
  });
}
