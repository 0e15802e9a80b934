import { describe, expect, it } from 'vitest';
import { compareOutputs, gatherRows, quantile, summarize } from '../src/index.js';
import { gcdBig } from '../src/harness/stats.js';
import { isCoarse, timestampQuantumNs } from '../src/gpu/timer.js';

const tol = { atol: 1e-3, rtol: 1e-2 };

describe('compareOutputs', () => {
  it('passes values inside atol + rtol·|ref| and reports the errors', () => {
    const cmp = compareOutputs([1.005, 0, -2], [1, 0.0005, -2], tol);
    expect(cmp.ok).toBe(true);
    expect(cmp.maxAbsError).toBeCloseTo(0.005, 12);
    expect(cmp.maxRelError).toBeCloseTo(0.005, 12);
    expect(cmp.mismatches).toBe(0);
  });

  it('fails a value outside the tolerance and points at the worst element', () => {
    const cmp = compareOutputs([1, 2.5, 3], [1, 2, 3.001], tol);
    expect(cmp.ok).toBe(false);
    expect(cmp.mismatches).toBe(1);
    expect(cmp.worstIndex).toBe(1);
  });

  it('never lets a NaN pass where the reference is finite, but accepts matching NaNs', () => {
    expect(compareOutputs([Number.NaN], [1], tol).ok).toBe(false);
    expect(compareOutputs([Number.NaN], [1], tol).maxAbsError).toBe(Infinity);
    expect(compareOutputs([1], [Number.NaN], tol).ok).toBe(false);
    expect(compareOutputs([Number.NaN, 2], [Number.NaN, 2], tol).ok).toBe(true);
    expect(compareOutputs([Infinity], [-Infinity], tol).ok).toBe(false);
  });

  it('refuses arrays of different lengths', () => {
    expect(() => compareOutputs([1], [1, 2], tol)).toThrow(/1 outputs with 2 reference values/);
  });

  it('gathers rows from a full output', () => {
    expect([...gatherRows([0, 1, 2, 3, 4, 5], [2, 0], 2)]).toEqual([4, 5, 0, 1]);
  });
});

describe('stats', () => {
  it('interpolates quantiles like NumPy', () => {
    const sorted = [1, 2, 3, 4, 10];
    expect(quantile(sorted, 0.5)).toBe(3);
    expect(quantile(sorted, 0.2)).toBeCloseTo(1.8, 12); // numpy.quantile([1,2,3,4,10], 0.2)
    expect(quantile(sorted, 0.8)).toBeCloseTo(5.2, 12);
    expect(quantile([7], 0.3)).toBe(7);
    expect(() => quantile([], 0.5)).toThrow();
    expect(() => quantile([1], 1.5)).toThrow();
  });

  it('summarizes unsorted samples', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ samples: 5, median: 3, min: 1, max: 5, mean: 3 });
    expect(s.p20).toBeCloseTo(1.8, 12);
    expect(s.p80).toBeCloseTo(4.2, 12);
    expect(() => summarize([])).toThrow();
  });

  it('finds the gcd of timestamps', () => {
    expect(gcdBig([300000n, 500000n, 1200000n])).toBe(100000n);
    expect(gcdBig([7n, 13n])).toBe(1n);
    expect(gcdBig([])).toBe(0n);
  });
});

describe('timestamp rounding', () => {
  it('sees Chrome-style 100 µs rounding as coarse and nanosecond clocks as fine', () => {
    const coarse = [
      { ns: 200000, raw: [1_234_500_000n, 1_234_700_000n] as [bigint, bigint] },
      { ns: 100000, raw: [1_235_000_000n, 1_235_100_000n] as [bigint, bigint] },
    ];
    expect(timestampQuantumNs(coarse)).toBe(100000);
    expect(isCoarse(timestampQuantumNs(coarse))).toBe(true);
    const fine = [
      { ns: 151234, raw: [9_876_543_211n, 9_876_694_445n] as [bigint, bigint] },
      { ns: 150999, raw: [9_877_000_003n, 9_877_151_002n] as [bigint, bigint] },
    ];
    expect(isCoarse(timestampQuantumNs(fine))).toBe(false);
    expect(timestampQuantumNs([{ ns: 5 }])).toBe(0);
  });
});
