import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type PageConfig, kernelProblems, parseSeqList, pinTiles, shapeProblem } from '../src/page/state/config.js';
import { decodeConfig, encodeConfig } from '../src/page/state/url.js';
import { defaultCaps, getKernel } from '../src/index.js';
import { memoryRows } from '../src/page/state/memory.js';
import { timestampSummary } from '../src/page/state/timing.js';

describe('sequence length lists', () => {
  it('reads commas, spaces, k suffixes and doubling ranges, sorted and without repeats', () => {
    expect(parseSeqList('512, 256 1k')).toEqual({ values: [256, 512, 1024] });
    expect(parseSeqList('64..512,128')).toEqual({ values: [64, 128, 256, 512] });
    expect(parseSeqList('4K')).toEqual({ values: [4096] });
  });

  it('names the part it cannot read', () => {
    expect(parseSeqList('256, abc')).toEqual({ error: expect.stringContaining('"abc"') });
    expect(parseSeqList('0')).toEqual({ error: expect.stringContaining('0 is outside 1..') });
    expect(parseSeqList('512..64')).toEqual({ error: expect.stringContaining('512 is above 64') });
    expect(parseSeqList('  ')).toEqual({ error: expect.stringContaining('at least one') });
    expect(parseSeqList('1..100000')).toEqual({ error: expect.stringContaining('at most 16') });
  });
});

describe('URL codec', () => {
  const config: PageConfig = {
    ...DEFAULT_CONFIG,
    kernels: ['flash'],
    shape: { batch: 2, heads: 8, kvHeads: 2, headDim: 128, causal: true },
    seqs: [64, 1000, 4096],
    samples: 7,
    tuneMaxConfigs: 5,
    tiles: { flash: { br: 32, bc: 64, wg: 128, rowThreads: 8, subgroups: 0 } },
  };

  it('round-trips every field, pinned tiles included', () => {
    const search = encodeConfig(config);
    expect(decodeConfig(search)).toEqual({ config, notes: [] });
  });

  it('writes a readable query: lists with literal commas, one parameter per tile', () => {
    const search = encodeConfig(config);
    expect(search).toBe(
      '?f=dense&k=flash&b=2&h=8&kvh=2&n=64,1000,4096&d=128&causal=1&samples=7&tune=5&flash.br=32&flash.bc=64&flash.wg=128&flash.rowThreads=8&flash.subgroups=0',
    );
  });

  it('leaves unpinned kernels to the device default, and an empty query to the page defaults', () => {
    expect(encodeConfig(DEFAULT_CONFIG)).not.toContain('naive.');
    expect(decodeConfig('')).toEqual({ config: DEFAULT_CONFIG, notes: [] });
  });

  it('reports each parameter it ignores instead of dropping it silently', () => {
    const { config: decoded, notes } = decodeConfig('?k=flash,turbo&b=0&n=12,x&causal=maybe&flash.br=7&flash.zz=1&naive.wgPv=64&what=1');
    expect(decoded.kernels).toEqual(['flash']);
    expect(decoded.shape.batch).toBe(DEFAULT_CONFIG.shape.batch);
    expect(decoded.seqs).toEqual(DEFAULT_CONFIG.seqs);
    expect(decoded.tiles).toEqual({ naive: { wgPv: 64 } });
    expect(notes).toHaveLength(7);
    expect(notes.join('\n')).toMatch(/kernel "turbo" ignored \(dense kernels: naive, flash/);
    expect(notes.join('\n')).toMatch(/b=0: Batch: 0 is outside 1\.\.4096/);
    expect(notes.join('\n')).toMatch(/flash\.br=7: flash Query tile \(Br\) takes 4, 8, 16, 32, 64, 128/);
    expect(notes.join('\n')).toMatch(/flash\.zz: no such kernel tile parameter/);
    expect(notes.join('\n')).toMatch(/what: not a dense parameter/);
  });

  it('keeps kernels in registry order whatever the link says', () => {
    expect(decodeConfig('?k=flash,naive').config.kernels).toEqual(['naive', 'flash']);
  });
});

describe('configuration checks', () => {
  const caps = defaultCaps({ limits: { ...defaultCaps().limits, maxComputeWorkgroupStorageSize: 32768 } });

  it('names the limit and the number for a tile configuration the device cannot take, per length', () => {
    const config = pinTiles({ ...DEFAULT_CONFIG, shape: { ...DEFAULT_CONFIG.shape, headDim: 32 }, seqs: [32, 64] }, 'flash', {
      br: 128,
      bc: 128,
      wg: 256,
      rowThreads: 4,
      subgroups: 0,
      prefetch: 1,
      unroll: 4,
    });
    const problems = kernelProblems(caps, 'flash', config);
    const storage = problems.find((p) => p.limit === 'maxComputeWorkgroupStorageSize');
    expect(storage?.message).toMatch(/needs \d+ bytes .* but maxComputeWorkgroupStorageSize is 32768 bytes/);
    expect(storage?.seqs).toEqual([32, 64]);
    expect(kernelProblems(caps, 'naive', config)).toEqual([]);
  });

  it('reports an inconsistent shape once, before any kernel check', () => {
    const config = { ...DEFAULT_CONFIG, shape: { ...DEFAULT_CONFIG.shape, heads: 6, kvHeads: 4 } };
    expect(shapeProblem(config)).toMatch(/heads \(6\) must be divisible by kvHeads \(4\)/);
    expect(kernelProblems(caps, 'flash', config)).toEqual([]);
  });

  it('counts S and P as N² per head for naive and nothing extra for flash', () => {
    const config = { ...DEFAULT_CONFIG, shape: { ...DEFAULT_CONFIG.shape, batch: 1, heads: 2, kvHeads: 2, headDim: 64 }, seqs: [1024] };
    const rows = memoryRows(config, caps);
    const naive = rows.find((r) => r.kernel === 'naive')!;
    const flash = rows.find((r) => r.kernel === 'flash')!;
    expect(naive.scratch.map((b) => b.bytes)).toEqual([2 * 1024 * 1024 * 4, 2 * 1024 * 1024 * 4]);
    expect(flash.scratch).toEqual([]);
    expect(flash.tensorBytes).toBe(4 * 2 * 1024 * 64 * 4);
    const shape = { batch: 1, heads: 2, kvHeads: 2, headDim: 64, seqQ: 1024, seqK: 1024, causal: false, scale: 0.125 };
    expect(naive.totalBytes - flash.totalBytes).toBe(
      getKernel('naive')
        .scratch(shape, getKernel('naive').defaultTiles(shape, caps))
        .reduce((s, b) => s + b.bytes, 0),
    );
  });
});

describe('timing summary', () => {
  it('tells timestamps apart: none, not yet measured, fine, and coarse with batching', () => {
    expect(timestampSummary(false, null)).toMatch(/host clock.*"wall"/);
    expect(timestampSummary(true, null)).toMatch(/measured during the first run/);
    expect(timestampSummary(true, 1)).toMatch(/resolution 1 ns \(method "timestamp"\)/);
    expect(timestampSummary(true, 100_000)).toMatch(/coarse: they tick in 100\.0 µs, so each sample batches .*"timestamp-coarse"/);
    expect(timestampSummary(true, 65_536)).toMatch(/tick in 65\.5 µs/);
  });
});
