// The README's pictures, from a committed GPU results file, drawn by the page itself on this
// machine (SwiftShader; no GPU needed): the page imports the file as its baseline, shows its runs
// in the plots beside the shape they were measured at, and places them under the file's own
// measured roofs. Run: npm run screenshot [-- results-file]   (default: the H200 roofline run).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, buildPage, launchChromium, newContext, serveStatic } from '../test/browser/page-server.js';

const file = process.argv[2] ?? 'bench/results/h200-roofline.json';
const name = path.basename(file);
const results = JSON.parse(await readFile(path.resolve(ROOT, file), 'utf8')) as { results: { shape: Record<string, unknown> }[] };
// The page's configured shape: the file's first row's batch, heads and head dim, every length it has.
const first = results.results[0]!.shape;
const lengths = [...new Set(results.results.map((r) => r.shape.seqK as number))].sort((a, b) => a - b);
const query = `?f=dense&k=naive,flash,flash-f16,flash-mma&b=${first.batch}&h=${first.heads}&kvh=${first.kvHeads}&d=${first.headDim}&n=${lengths.join(',')}`;

const dist = await buildPage();
const server = await serveStatic(dist);
const browser = await launchChromium();
try {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${server.url}${query}`);
  await page.locator('device-panel [data-field=vendor]').waitFor({ timeout: 60_000 });
  await page.getByLabel('Results file to import').setInputFiles({ name, mimeType: 'application/json', buffer: await readFile(path.resolve(ROOT, file)) });
  const roofline = page.getByRole('region', { name: 'Roofline' });
  await roofline
    .locator('figcaption')
    .filter({ hasText: `in ${name}` })
    .waitFor({ timeout: 30_000 });
  // Let uPlot lay out after the import.
  await page.waitForTimeout(1000);
  await page.getByRole('region', { name: 'Results' }).screenshot({ path: path.join(ROOT, 'docs/screenshot.png') });
  await roofline.screenshot({ path: path.join(ROOT, 'docs/roofline.png') });
  process.stdout.write(`wrote docs/screenshot.png (results plots) and docs/roofline.png from ${file}\n`);
} finally {
  await browser.close();
  await server.close();
}
