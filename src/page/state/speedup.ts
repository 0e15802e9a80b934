import type { ResultRecord } from '../../results/schema.js';

export type SpeedupVerdict = 'faster' | 'slower' | 'neutral';

/**
 * Whether a row is faster or slower than the row it is compared with, beyond the noise: only when
 * the two p20–p80 ranges do not overlap. A 0.97× whose ranges overlap is the same speed measured
 * twice, and colouring it as a loss sends the user chasing noise. Rows without a range (old files)
 * fall back to the medians, with exactly equal ones neutral.
 */
export function speedupVerdict(row: ResultRecord, other: ResultRecord): SpeedupVerdict {
  if (row.medianMs === null || other.medianMs === null) return 'neutral';
  const lo = (r: ResultRecord) => r.p20Ms ?? r.medianMs!;
  const hi = (r: ResultRecord) => r.p80Ms ?? r.medianMs!;
  if (hi(row) < lo(other)) return 'faster';
  if (lo(row) > hi(other)) return 'slower';
  return 'neutral';
}
