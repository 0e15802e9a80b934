import { KERNELS } from '../../attention/registry.js';
import type { Tiles } from '../../attention/types.js';
import type { ResultRecord } from '../../results/schema.js';

/** Tag of rows measured by Run and live tile edits: one per kernel and shape, the latest wins. */
export const PAGE_TAG = 'page';
/** Tag the autotuner gives its checked finalists (see src/autotune.ts). */
export const AUTOTUNE_FINAL_TAG = 'autotune-final';

type Shape = ResultRecord['shape'];

export function sameShape(a: Shape, b: Shape): boolean {
  return (
    a.batch === b.batch && a.heads === b.heads && a.kvHeads === b.kvHeads && a.seqQ === b.seqQ && a.seqK === b.seqK &&
    a.headDim === b.headDim && a.causal === b.causal && Math.abs(a.scale - b.scale) <= 1e-12 * Math.abs(b.scale)
  );
}

export function sameTiles(a: Tiles, b: Tiles): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * Adds a record to the results. A Run or live-edit row replaces the previous one of its kernel and
 * shape, so the table and plot show the configuration as it is now (older numbers live on in an
 * export, which can come back as a baseline). Autotune finalists replace only a row of the same
 * tiles, so every checked finalist stays listed.
 */
export function mergeRecord(results: readonly ResultRecord[], record: ResultRecord): ResultRecord[] {
  const replaces = (r: ResultRecord) =>
    r.kernel === record.kernel &&
    r.tag === record.tag &&
    sameShape(r.shape, record.shape) &&
    (record.tag === PAGE_TAG || sameTiles(r.tiles, record.tiles));
  return [...results.filter((r) => !replaces(r)), record];
}

const kernelRank = (name: string) => {
  const i = KERNELS.findIndex((k) => k.name === name);
  return i < 0 ? KERNELS.length : i;
};

/** Table order: shapes (family, then length), kernels in registry order, live rows before autotune's, fastest first. */
export function sortForDisplay(results: readonly ResultRecord[]): ResultRecord[] {
  const family = (s: Shape) => [s.batch, s.heads, s.kvHeads, s.headDim, s.causal ? 1 : 0, s.seqK, s.seqQ];
  return [...results].sort((a, b) => {
    const fa = family(a.shape);
    const fb = family(b.shape);
    for (let i = 0; i < fa.length; i++) if (fa[i] !== fb[i]) return fa[i]! - fb[i]!;
    if (a.kernel !== b.kernel) return kernelRank(a.kernel) - kernelRank(b.kernel) || a.kernel.localeCompare(b.kernel);
    const ta = a.tag === PAGE_TAG ? 0 : 1;
    const tb = b.tag === PAGE_TAG ? 0 : 1;
    if (ta !== tb) return ta - tb;
    return (a.medianMs ?? Infinity) - (b.medianMs ?? Infinity);
  });
}

/** Passed the reference check (or ran without one) and was timed. */
export function isTimed(r: ResultRecord): r is ResultRecord & { medianMs: number } {
  return r.status === 'ok' && r.medianMs !== null && r.medianMs > 0;
}
