import { FAMILIES } from '../attention/registry.js';
import type { Problem } from '../attention/types.js';
import type { ResultRecord } from './schema.js';

/** The problem of a record's family, or undefined for a family this build does not know. */
export function problemOf(record: Pick<ResultRecord, 'family'>): Problem<any> | undefined {
  return FAMILIES.find((f) => f.problem.family === record.family)?.problem;
}

/** A record's shape as its family labels it (e.g. "B1 H8/2 N256 d64 causal"); field=value pairs for unknown families. */
export function recordShapeLabel(record: Pick<ResultRecord, 'family' | 'shape'>): string {
  const problem = problemOf(record);
  if (problem) {
    try {
      return problem.label(problem.resolve(record.shape));
    } catch {
      // A shape this build's limits refuse (another version's file): fall through to the fields.
    }
  }
  return Object.entries(record.shape)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(':') : String(v)}`)
    .join(' ');
}

/** A number field of a record's shape (NaN when absent: a family without that field). */
export function shapeNumber(record: Pick<ResultRecord, 'shape'>, key: string): number {
  const v = record.shape[key];
  return typeof v === 'number' ? v : Number.NaN;
}
