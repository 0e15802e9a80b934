// Building, serving and driving the page in headless Chromium, without a test runner: the browser
// tests (harness.ts adds vitest's hooks) and bench/screenshot.ts share it.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';

/** The repository: the nearest folder above this module with a package.json (the module may run bundled from .build/). */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
export const ARTIFACTS = path.join(ROOT, 'test-results');

/** Debian's Chromium: it ships SwiftShader, a Vulkan driver on the CPU, so WebGPU runs without a GPU. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * The flags that give headless Chromium a WebGPU adapter on SwiftShader here, in one place.
 * --enable-unsafe-webgpu: WebGPU on Linux; --enable-unsafe-swiftshader: allow the software adapter;
 * --no-sandbox: CI runs as root; the rest keep a browser on a closed network from phoning home.
 */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--disable-default-apps',
];

/** Builds the page with the project's vite.config.ts into a fresh directory (a child process: no state shared with vitest's Vite). */
export async function buildPage(): Promise<string> {
  const outDir = await mkdtemp(path.join(tmpdir(), 'attention-page-'));
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build failed (${code}):\n${output}`))));
  });
  return outDir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  /** The page's URL, under a subpath so that the build is proven to work away from the root. */
  url: string;
  origin: string;
  close(): Promise<void>;
}

/** Serves `root` read-only under `mount` on 127.0.0.1 at a free port: any static server would do. */
export async function serveStatic(root: string, mount = '/playground/'): Promise<StaticServer> {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(mount)) {
      res.writeHead(404).end('not found');
      return;
    }
    const rel = decodeURIComponent(url.pathname.slice(mount.length)) || 'index.html';
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}${mount}`,
    origin,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface PageWatch {
  /** Uncaught exceptions and console errors: a test fails on any it did not expect. */
  errors: string[];
  /** Every URL the page requested. */
  requests: string[];
  /** Script URLs of the workers the page started. */
  workers: string[];
}

/** Collects what a page requests and every error it reports. */
export function watch(page: Page): PageWatch {
  const w: PageWatch = { errors: [], requests: [], workers: [] };
  page.on('worker', (worker) => w.workers.push(worker.url()));
  page.on('pageerror', (e) => w.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => w.requests.push(r.url()));
  return w;
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1500, height: 1000 }, acceptDownloads: true, colorScheme: 'light' });
}

/** Waits until the page has finished `count` jobs in total and nothing is queued. */
export async function waitForJobs(page: Page, count: number, timeout = 150_000): Promise<void> {
  await page.waitForFunction((n) => !!window.__playground && window.__playground.completedJobs >= n && !window.__playground.busy, count, {
    timeout,
    polling: 100,
  });
}

export async function completedJobs(page: Page): Promise<number> {
  return page.evaluate(() => window.__playground?.completedJobs ?? 0);
}
