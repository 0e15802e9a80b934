import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, makeResultsFile, parseResultsFile, toCsv } from '../src/index.js';
import { record as sampleRecord } from './helpers/records.js';

const context = {
  date: '2026-11-22T00:00:00.000Z',
  tool: { name: 'webgpu-attention-playground', version: '0.1.0' },
  gitCommit: null,
  runtime: 'node' as const,
  userAgent: 'node v20',
  adapter: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader', software: true },
  features: ['timestamp-query'],
  limits: { maxComputeWorkgroupStorageSize: 32768 },
  timestampMethod: 'timestamp-query' as const,
  notes: [],
};

describe('results file schema', () => {
  it('round-trips a file through JSON', () => {
    const file = makeResultsFile(context, [
      sampleRecord(),
      sampleRecord({ kernel: 'naive', status: 'skipped', reason: 'too big', medianMs: null, timing: null, check: null }),
    ]);
    expect(parseResultsFile(JSON.stringify(file))).toEqual(file);
  });

  it('ignores fields it does not know, at every level', () => {
    const file = makeResultsFile(context, [sampleRecord()]) as unknown as Record<string, unknown>;
    const extended = JSON.parse(JSON.stringify(file));
    extended.futureTopLevel = 1;
    extended.context.gpuClockMHz = 1980;
    extended.results[0].energyJ = 0.3;
    const parsed = parseResultsFile(extended);
    expect(parsed.results[0]).not.toHaveProperty('energyJ');
    expect(parsed.results[0]!.medianMs).toBe(1.5);
  });

  it("reads a tunable a record predates as the value that ran then, never as today's default", () => {
    // decode-split's prefetch and qregs came after results were stored; prefetch=0, qregs=0 is the
    // old shader byte for byte, while today's default prefetch is 1.
    const old = sampleRecord({
      family: 'decode',
      kernel: 'decode-split',
      shape: {
        batch: 1,
        heads: 32,
        kvHeads: 8,
        seqQ: 1,
        seqK: 131072,
        headDim: 128,
        kvType: 'f16',
        layout: 'contiguous',
        blockSize: 16,
        lengths: 'equal',
        scale: 0.088,
      },
      tiles: { chunk: 1024, wg: 128, lanes: 2, rows: 4, subgroups: 1, unroll: 1, stagger: 1 },
    });
    const recent = { ...old, tiles: { ...old.tiles, prefetch: 1, qregs: 0 } };
    const linear = sampleRecord({
      family: 'linear',
      kernel: 'linear-chunked',
      shape: { batch: 1, heads: 16, seqK: 16384, dk: 128, dv: 128, rule: 'delta', decay: 'weak', storage: 'f32' },
      tiles: { chunk: 32, dvt: 8, wg: 256 },
    });
    const parsed = parseResultsFile(JSON.stringify(makeResultsFile(context, [old, recent, linear, sampleRecord()])));
    expect(parsed.results[0]!.tiles).toEqual({ ...old.tiles, prefetch: 0, qregs: 0 });
    expect(parsed.results[1]!.tiles).toEqual(recent.tiles);
    expect(parsed.results[2]!.tiles).toEqual({ chunk: 32, dvt: 8, wg: 256, slab: 8, prefetch: 0 });
    // A shape field added later (GVA's qkHeads) is read as its default, here the record's own heads.
    expect(parsed.results[2]!.shape.qkHeads).toBe(16);
    // A kernel whose tunables have no `absent` keeps its tiles as recorded.
    expect(parsed.results[3]!.tiles).toEqual({ br: 64, bc: 32 });
  });

  it('names the path of what is wrong', () => {
    const bad = JSON.parse(JSON.stringify(makeResultsFile(context, [sampleRecord()])));
    delete bad.results[0].shape.headDim;
    bad.context.adapter.software = 'yes';
    expect(() => parseResultsFile(bad)).toThrow(/results\.0\.shape\.headDim/);
    expect(() => parseResultsFile(bad)).toThrow(/context\.adapter\.software/);
    expect(() => parseResultsFile('{not json')).toThrow(/invalid JSON/);
    expect(() => parseResultsFile({ format: 'other', version: 1 })).toThrow(/format/);
  });
});

describe('CSV export', () => {
  it('writes a header and one escaped row per result', () => {
    const csv = toCsv([sampleRecord(), sampleRecord({ status: 'skipped', reason: 'needs "S", 1 GiB', medianMs: null })]);
    const lines = csv.trimEnd().split('\n');
    // The dense family's fields sit after the first four columns.
    const header = [
      'family',
      'kernel',
      'status',
      'precision',
      'batch',
      'heads',
      'kvHeads',
      'seqQ',
      'seqK',
      'headDim',
      'causal',
      'scale',
      ...CSV_COLUMNS.slice(4),
    ];
    expect(lines[0]).toBe(header.join(','));
    expect(lines).toHaveLength(3);
    expect(lines[1]!.split(',').length).toBe(header.length);
    expect(lines[1]).toContain('br=64 bc=32');
    expect(lines[2]).toContain('"needs ""S"", 1 GiB"');
    const cols = lines[2]!.split(',');
    expect(cols[header.indexOf('medianMs')]).toBe('');
  });

  it('writes stage times and timing rounds as name=value and space-separated cells', () => {
    const base = sampleRecord();
    const staged = {
      ...base,
      stages: [
        { name: 'index', medianMs: 2.5 },
        { name: 'attend', medianMs: 7 },
      ],
      timing: { ...base.timing!, rounds: [9.5, 1.25] },
    };
    const [head, row] = toCsv([staged]).trim().split('\n');
    const cells = row!.split(',');
    const at = (c: string) => cells[head!.split(',').indexOf(c)];
    expect(at('stagesMs')).toBe('index=2.5 attend=7');
    expect(at('roundsMs')).toBe('9.5 1.25');
  });
});

describe('version 1 results files', () => {
  it('load as dense results, every record with its family and minimal fields intact', async () => {
    const { readFileSync } = await import('node:fs');
    const file = parseResultsFile(readFileSync('bench/results/h100-suite.json', 'utf8'));
    expect(JSON.parse(readFileSync('bench/results/h100-suite.json', 'utf8')).version).toBe(1);
    expect(file.version).toBe(2);
    expect(file.results.length).toBeGreaterThan(90);
    expect(file.results.every((r) => r.family === 'dense' && typeof r.shape.headDim === 'number')).toBe(true);
  });

  it('are refused when a dense field is missing, naming it', () => {
    const bad = JSON.parse(JSON.stringify(makeResultsFile(context, [sampleRecord()])));
    bad.version = 1;
    delete bad.results[0].family;
    delete bad.results[0].shape.seqK;
    expect(() => parseResultsFile(bad)).toThrow(/results\.0\.shape\.seqK: missing \(Sequence lengths\)/);
  });
});
