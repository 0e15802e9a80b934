import type { Tiles } from '../attention/types.js';
import type { ResultRecord } from './schema.js';

type Shape = ResultRecord['shape'];

/** Same field values (numbers equal to 1e-12 relative, for a computed scale). */
export function sameShape(a: Shape, b: Shape): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y && !(Math.abs(x - y) <= 1e-12 * Math.abs(y))) return false;
    } else if (JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

export function sameTiles(a: Tiles, b: Tiles): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Passed the reference check (or ran without one) and was timed. */
export function isTimed(r: ResultRecord): r is ResultRecord & { medianMs: number } {
  return r.status === 'ok' && r.medianMs !== null && r.medianMs > 0;
}
