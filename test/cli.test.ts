// The command-line runner end to end: the real bundle, run by node, on the real adapter.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, parseResultsFile } from '../src/index.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, '.build', 'bench.mjs');

async function bench(args: string[]) {
  try {
    const { stdout, stderr } = await run('node', [bundle, ...args], { cwd: root, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  await run('node', ['bench/build.mjs'], { cwd: root });
});

describe('npm run bench', () => {
  it('runs both kernels, prints the table and writes JSON that validates and CSV', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
    const json = path.join(dir, 'out.json');
    const csv = path.join(dir, 'out.csv');
    const { code, stdout, stderr } = await bench([
      '--seq', '16,33', '--dim', '32', '--heads', '2', '--kv-heads', '1', '--causal', 'both',
      '--tiles', 'flash:br=16/32,bc=16,wg=32,rowThreads=2,subgroups=0',
      '--samples', '2', '--warmup', '1', '--json', json, '--csv', csv,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/kernel\s+shape\s+tiles\s+median ms\s+p20–p80 ms\s+TFLOP\/s\s+GB\/s\s+max err\s+ok/);
    expect(stdout).toMatch(/flash\s+B1 H2\/1 N33 d32 causal\s+br=32 bc=16 wg=32 rowThreads=2 subgroups=0/);
    expect(stderr).toMatch(/\[12\/12\]/);
    const file = parseResultsFile(readFileSync(json, 'utf8'));
    // 2 lengths × 2 causal × (1 naive + 2 flash tile configurations)
    expect(file.results).toHaveLength(12);
    expect(file.results.every((r) => r.status === 'ok' && r.check?.ok)).toBe(true);
    expect(file.context.adapter.software).toBe(true);
    expect(file.context.limits.maxComputeWorkgroupStorageSize).toBeGreaterThan(0);
    expect(file.context.tool.name).toBe('webgpu-attention-playground');
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(13);
  });

  it('explains every flag with --help', async () => {
    const { code, stdout } = await bench(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--kernels', '--seq', '--seq-q', '--dim', '--heads', '--kv-heads', '--batch', '--causal', '--tiles', '--json', '--csv', '--samples', '--warmup', '--suite']) {
      expect(stdout).toContain(flag);
    }
  });

  it('lists kernels and their tile parameters', async () => {
    const { code, stdout } = await bench(['--list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/flash: FlashAttention-2/);
    expect(stdout).toMatch(/br\s+Query tile \(Br\): 4, 8, 16, 32, 64, 128/);
  });

  it('exits 2 with a message for bad flags', async () => {
    for (const args of [['--seq', 'x'], ['--causal', 'maybe'], ['--kernels', 'turbo'], ['--bogus'], ['--tiles', 'flash:br=5'], ['--heads', '6', '--kv-heads', '4']]) {
      const { code, stderr } = await bench(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/^bench: /);
    }
  });

  it('keeps going past a case the device cannot run, and says why', async () => {
    const { code, stdout } = await bench(['--kernels', 'flash', '--seq', '8', '--dim', '30', '--samples', '1', '--warmup', '0']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/skipped/);
    expect(stdout).toMatch(/headDim must be a multiple of 4, got 30/);
  });
});
