/** Summary of repeated timings, in the unit they were given. */
export interface TimingSummary {
  samples: number;
  median: number;
  p20: number;
  p80: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * Quantile with linear interpolation between order statistics (the "type 7" rule of R and NumPy),
 * so that p20/p80 of a handful of samples are stable and comparable to other tools.
 */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of no samples');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile p must be in [0, 1], got ${p}`);
  const pos = (n - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const frac = pos - lo;
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * frac;
}

export function summarize(values: readonly number[]): TimingSummary {
  if (values.length === 0) throw new RangeError('cannot summarize zero samples');
  const sorted = [...values].sort((a, b) => a - b);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    samples: sorted.length,
    median: quantile(sorted, 0.5),
    p20: quantile(sorted, 0.2),
    p80: quantile(sorted, 0.8),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
  };
}

/** Greatest common divisor of non-negative integers (BigInt, for raw GPU timestamps in ns). */
export function gcdBig(values: readonly bigint[]): bigint {
  let g = 0n;
  for (let v of values) {
    if (v < 0n) v = -v;
    let a = g;
    let b = v;
    while (b !== 0n) [a, b] = [b, a % b];
    g = a;
  }
  return g;
}
