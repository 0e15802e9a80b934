// The command-line runner end to end: the real bundle, run by node, on the real adapter.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
      '--seq',
      '16,33',
      '--dim',
      '32',
      '--heads',
      '2',
      '--kv-heads',
      '1',
      '--causal',
      'both',
      '--tiles',
      'flash:br=16/32,bc=16,wg=32,rowThreads=2,subgroups=0',
      '--samples',
      '2',
      '--warmup',
      '1',
      '--json',
      json,
      '--csv',
      csv,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/kernel\s+shape\s+tiles\s+median ms\s+p20–p80 ms\s+TFLOP\/s\s+GB\/s\s+AI\s+roof %\s+max err\s+ok/);
    expect(stdout).toMatch(/flash\s+B1 H2\/1 N33 d32 causal\s+br=32 bc=16 wg=32 rowThreads=2 .*subgroups=0/);
    expect(stderr).toMatch(/\[12\/12\]/);
    const file = parseResultsFile(readFileSync(json, 'utf8'));
    // 2 lengths × 2 causal × (1 naive + 2 flash tile configurations)
    expect(file.results).toHaveLength(12);
    expect(file.results.every((r) => r.status === 'ok' && r.check?.ok)).toBe(true);
    expect(file.context.adapter.software).toBe(true);
    expect(file.context.limits.maxComputeWorkgroupStorageSize).toBeGreaterThan(0);
    expect(file.context.tool.name).toBe('webgpu-attention-playground');
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(
      ['family', 'kernel', 'status', 'precision', 'batch', 'heads', 'kvHeads', 'seqQ', 'seqK', 'headDim', 'causal', 'scale', ...CSV_COLUMNS.slice(4)].join(','),
    );
    expect(lines).toHaveLength(13);
  });

  it("prints the ceilings with --ceilings, and records them and each row's roofline fraction with --with-ceilings", async () => {
    const printed = await bench(['--ceilings']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/copy bandwidth\s+[\d.]+ GB\/s/);
    expect(printed.stdout).toMatch(/f32 FMA\s+[\d.]+ TFLOP\/s/);
    expect(printed.stdout).toMatch(/f16 FMA\s+– TFLOP\/s\s+no shader-f16/);
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
    const json = path.join(dir, 'out.json');
    const csv = path.join(dir, 'out.csv');
    const { code, stdout, stderr } = await bench([
      '--seq',
      '32',
      '--dim',
      '32',
      '--heads',
      '2',
      '--samples',
      '2',
      '--warmup',
      '1',
      '--with-ceilings',
      '--json',
      json,
      '--csv',
      csv,
    ]);
    expect(code, stderr).toBe(0);
    const file = parseResultsFile(readFileSync(json, 'utf8'));
    const ceilings = file.context.ceilings!;
    expect(ceilings.copyGBps).toBeGreaterThan(0);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    const header = lines[0]!.split(',');
    for (const [i, r] of file.results.entries()) {
      const intensity = r.flops / r.bytes;
      expect(r.intensity).toBeCloseTo(intensity, 12);
      const bound = Math.min(ceilings.f32Tflops, (intensity * ceilings.copyGBps) / 1e3);
      expect(r.rooflineFraction).toBeCloseTo(r.tflops! / bound, 9);
      const cells = lines[i + 1]!.split(',');
      expect(Number(cells[header.indexOf('intensity')])).toBeCloseTo(intensity, 9);
      expect(Number(cells[header.indexOf('rooflineFraction')])).toBeCloseTo(r.rooflineFraction!, 9);
      // The table's roof % column: the same fraction, in percent.
      const pct = r.rooflineFraction! * 100;
      expect(stdout).toContain(` ${pct.toFixed(r.rooflineFraction! >= 0.1 ? 0 : 1)} `);
    }
    const refused = await bench(['--ceilings', '--with-ceilings']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^bench: --ceilings prints the ceilings and exits; --with-ceilings records them beside a run: use one \(see --help\)\n$/);
  });

  it('explains every flag with --help', async () => {
    const { code, stdout } = await bench(['--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--kernels',
      '--seq',
      '--seq-q',
      '--dim',
      '--heads',
      '--kv-heads',
      '--batch',
      '--causal',
      '--tiles',
      '--json',
      '--csv',
      '--samples',
      '--warmup',
      '--suite',
      '--ceilings',
      '--with-ceilings',
    ]) {
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
    for (const args of [
      ['--seq', 'x'],
      ['--causal', 'maybe'],
      ['--kernels', 'turbo'],
      ['--bogus'],
      ['--tiles', 'flash:br=5'],
      ['--heads', '6', '--kv-heads', '4'],
    ]) {
      const { code, stderr } = await bench(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/^bench: /);
    }
  });

  it('adds PyTorch comparisons from torch_sdpa.py lines, to the table and the JSON', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
    const torch = path.join(dir, 'torch.jsonl');
    const json = path.join(dir, 'out.json');
    const line = (backend: string, ms: number) =>
      JSON.stringify({ source: 'torch-sdpa', backend, dtype: 'float32', batch: 1, heads: 2, kvHeads: 2, seq: 24, dim: 32, causal: false, ms, tflops: 1 });
    writeFileSync(
      torch,
      [
        JSON.stringify({ device: 'Test GPU', torch: '2.0' }),
        line('MATH', 4),
        line('EFFICIENT_ATTENTION', 2),
        '{"source":"torch-sdpa","backend":"FLASH_ATTENTION","dtype":"float32","batch":1,"heads":2,"kvHeads":2,"seq":24,"dim":32,"causal":false,"error":"not supported"}',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await bench([
      '--seq',
      '24',
      '--dim',
      '32',
      '--heads',
      '2',
      '--samples',
      '2',
      '--warmup',
      '1',
      '--compare',
      torch,
      '--json',
      json,
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/vs PyTorch \(their ms \/ ours\)/);
    expect(stdout).toMatch(/math \d+\.\d+× mem-eff \d+\.\d+×/);
    expect(stdout).toMatch(/Against naive:\n\s+B1 H2 N24 d32: flash \d+\.\d× (faster|slower) than naive/);
    const file = parseResultsFile(readFileSync(json, 'utf8'));
    const flash = file.results.find((r) => r.kernel === 'flash')!;
    expect(flash.comparisons!.map((c) => c.backend)).toEqual(['MATH', 'EFFICIENT_ATTENTION']);
    expect(flash.comparisons![1]!.relative).toBeCloseTo(2 / flash.medianMs!, 9);
    expect(file.context.notes.join(' ')).toMatch(/Compared with PyTorch 2.0 on Test GPU/);
  });

  it('runs the conformance matrix on this device with --conformance', async () => {
    const { code, stdout } = await bench(['--conformance', '--kernels', 'naive,flash-f16']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/naive\s+headDim=64\s+wgScores=64 wgSoftmax=64 wgPv=64: 14\/14 shapes match/);
    expect(stdout).toMatch(/flash-f16\s+headDim=32\s+\(defaults\): not run here: flash-f16: needs the "shader-f16" feature/);
  });

  it('keeps going past a case the device cannot run, and says why', async () => {
    const { code, stdout } = await bench(['--kernels', 'naive,flash', '--seq', '8', '--dim', '30', '--samples', '1', '--warmup', '0']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/naive\s+B1 H4 N8 d30 .* yes/);
    expect(stdout).toMatch(/skipped/);
    expect(stdout).toMatch(/headDim must be a multiple of 4, got 30/);
  });

  it('exits non-zero with the reason when nothing ran', async () => {
    const { code, stderr } = await bench(['--kernels', 'flash', '--seq', '8', '--dim', '30', '--samples', '1', '--warmup', '0']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/nothing ran: all 1 cases were skipped \(flash B1 H4 N8 d30: .*headDim must be a multiple of 4, got 30/);
  });

  it('keeps the cases that finished when interrupted (Ctrl-C), in a results file that validates', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
    const json = path.join(dir, 'partial.json');
    const child = spawn(
      'node',
      // The last three cases are long enough (their float64 checks alone take a second or more) that
      // the signal lands while they run: with six tiny cases, a loaded machine delivered it after the
      // run had ended and its handler was gone (exit by signal, not 130).
      [bundle, '--kernels', 'naive', '--seq', '8,16,24,1024,1536,2048', '--dim', '32', '--heads', '1', '--samples', '1', '--warmup', '0', '--json', json],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Interrupt once the third case has started: two have finished and been written.
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/\[3\/6\]/.test(stderr)) resolve();
      });
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted after \d of 6 cases; .*partial\.json hold/);
    const file = parseResultsFile(readFileSync(json, 'utf8'));
    expect(file.results.length).toBeGreaterThanOrEqual(2);
    expect(file.results.length).toBeLessThan(6);
    expect(file.results.every((r) => r.status === 'ok')).toBe(true);
  });
});
