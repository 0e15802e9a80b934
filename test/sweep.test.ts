import { describe, expect, it } from 'vitest';
import { expandSweep, parseTileSpec } from '../bench/sweep.js';

describe('tile specs', () => {
  it('crosses / separated values', () => {
    expect(parseTileSpec('flash:br=32/64,bc=16/32').configs).toEqual([
      { br: 32, bc: 16 },
      { br: 32, bc: 32 },
      { br: 64, bc: 16 },
      { br: 64, bc: 32 },
    ]);
    expect(parseTileSpec('naive:wgScores=128')).toEqual({ kernel: 'naive', configs: [{ wgScores: 128 }] });
    expect(parseTileSpec('flash:all').configs.length).toBe(7 * 6 * 7 * 6 * 2 * 6 * 2);
  });

  it('refuses malformed specs with the reason', () => {
    expect(() => parseTileSpec('br=32')).toThrow(/expected KERNEL:key=value/);
    expect(() => parseTileSpec('flash:br')).toThrow(/"br" is not key=value/);
    expect(() => parseTileSpec('flash:br=48')).toThrow(/br = 48 is not one of 4, 8, 16, 32, 64, 128/);
    expect(() => parseTileSpec('flash:tile=4')).toThrow(/no tile parameter "tile"/);
    expect(() => parseTileSpec('fast:br=4')).toThrow(/unknown kernel "fast"/);
  });
});

describe('sweeps', () => {
  it('expands every combination with kernels innermost', () => {
    const cases = expandSweep({
      kernels: ['naive', 'flash'],
      values: { headDim: [64], causal: [false, true], batch: [1], heads: [4], kvHeads: [4, 1], seqK: [64, 128] },
      tiles: new Map([['flash', [{ br: 32 }, { br: 64 }]]]),
    });
    expect(cases).toHaveLength(2 * 2 * 2 * 3);
    expect(cases.slice(0, 3).map((c) => [c.kernel, c.tiles])).toEqual([
      ['naive', {}],
      ['flash', { br: 32 }],
      ['flash', { br: 64 }],
    ]);
    expect(cases[0]!.shape).toEqual({ batch: 1, heads: 4, kvHeads: 4, seqK: 64, headDim: 64, causal: false });
  });

  it('keeps the query length apart when given (decode)', () => {
    const [c] = expandSweep({
      kernels: ['flash'],
      values: { batch: [1], heads: [8], kvHeads: [2], seqK: [4096], seqQ: [1], headDim: [128], causal: [true] },
      tiles: new Map(),
    });
    expect(c!.shape).toMatchObject({ seqQ: 1, seqK: 4096, kvHeads: 2 });
  });
});
