import type { ResultRecord } from './schema.js';
import { isTimed, sameShape, sameTiles } from './match.js';

export interface BaselineMatch {
  baseline: ResultRecord;
  /** The baseline row had the same tiles; otherwise it is the baseline's fastest row of that kernel and shape. */
  sameTiles: boolean;
  /** Baseline time ÷ this time: above 1 means faster than the baseline. Null unless both were timed. */
  speedup: number | null;
}

/**
 * The baseline row to compare a result with: same kernel and shape, the same tiles when the
 * baseline has them, else the baseline's fastest timed row for that kernel and shape (a tuned
 * baseline against today's tiles is still the comparison a user wants).
 */
export function matchBaseline(record: ResultRecord, baseline: readonly ResultRecord[]): BaselineMatch | null {
  const candidates = baseline.filter((b) => b.family === record.family && b.kernel === record.kernel && sameShape(b.shape, record.shape));
  if (candidates.length === 0) return null;
  const exact = candidates.find((b) => sameTiles(b.tiles, record.tiles));
  const fastest = [...candidates].sort((a, b) => (isTimed(a) ? a.medianMs : Infinity) - (isTimed(b) ? b.medianMs : Infinity))[0]!;
  const chosen = exact ?? fastest;
  return { baseline: chosen, sameTiles: exact !== undefined, speedup: speedupOf(record, chosen) };
}

export function speedupOf(record: ResultRecord, baseline: ResultRecord): number | null {
  if (!isTimed(record) || !isTimed(baseline)) return null;
  return baseline.medianMs / record.medianMs;
}

/** Baseline rows no current result is compared with: listed on their own so an import is visible at once. */
export function unmatchedBaseline(results: readonly ResultRecord[], baseline: readonly ResultRecord[]): ResultRecord[] {
  const used = new Set<ResultRecord>();
  for (const r of results) {
    const m = matchBaseline(r, baseline);
    if (m) used.add(m.baseline);
  }
  return baseline.filter((b) => !used.has(b));
}

/** "1.25×" style: two decimals near 1, fewer far from it. */
export function formatRatio(ratio: number): string {
  if (ratio >= 100) return `${ratio.toFixed(0)}×`;
  if (ratio >= 10) return `${ratio.toFixed(1)}×`;
  return `${ratio.toFixed(2)}×`;
}
