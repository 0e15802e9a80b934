import { KERNELS } from '../../attention/registry.js';
import { FAMILIES } from '../../attention/registry.js';
import { isTimed, sameShape, sameTiles } from '../../results/match.js';
import type { ResultRecord } from '../../results/schema.js';

/** Tag of rows measured by Run and live tile edits: one per kernel and shape, the latest wins. */
export const PAGE_TAG = 'page';
/** Tag the autotuner gives its checked finalists (see src/autotune.ts). */
export const AUTOTUNE_FINAL_TAG = 'autotune-final';
/** Tag of a row a tile edit replaced: kept beside the new one so before and after can be compared. */
export const PREVIOUS_TAG = 'previous';

/**
 * Adds a record to the results. A Run or live-edit row replaces the previous one of its kernel and
 * shape, so the table and plot show the configuration as it is now (older numbers live on in an
 * export, which can come back as a baseline). Autotune finalists replace only a row of the same
 * tiles, so every checked finalist stays listed.
 */
export function mergeRecord(results: readonly ResultRecord[], record: ResultRecord): ResultRecord[] {
  const replaces = (r: ResultRecord) =>
    r.family === record.family &&
    r.kernel === record.kernel &&
    r.tag === record.tag &&
    sameShape(r.shape, record.shape) &&
    (record.tag === PAGE_TAG || sameTiles(r.tiles, record.tiles));
  return [...results.filter((r) => !replaces(r)), record];
}

/**
 * The previous-configuration rows after a tile edit's record arrives: the Run row it replaces moves
 * here (tagged "previous"), replacing an older previous row of its kernel and shape, so the table
 * and plots always show the configuration just before the latest edit beside the current one. A
 * record with the same tiles as the row it replaces (a re-run of the same configuration) changes
 * nothing: there is no "before" to compare with.
 */
export function keepPrevious(previous: readonly ResultRecord[], results: readonly ResultRecord[], record: ResultRecord): ResultRecord[] {
  if (record.tag !== PAGE_TAG) return [...previous];
  const same = (r: ResultRecord) => r.family === record.family && r.kernel === record.kernel && sameShape(r.shape, record.shape);
  const replaced = results.find((r) => r.tag === PAGE_TAG && same(r));
  if (!replaced || sameTiles(replaced.tiles, record.tiles)) return [...previous];
  return [...previous.filter((r) => !same(r)), { ...replaced, tag: PREVIOUS_TAG }];
}

const kernelRank = (name: string) => {
  const i = KERNELS.findIndex((k) => k.name === name);
  return i < 0 ? KERNELS.length : i;
};

/** A record's sort key: its family's rank, then its shape fields in the family's order with the swept (axis) field last. */
function shapeOrder(r: ResultRecord): (number | string)[] {
  const rank = FAMILIES.findIndex((f) => f.problem.family === r.family);
  const problem = FAMILIES[rank]?.problem;
  const keys = problem ? [...problem.fields.map((f) => f.key).filter((k) => k !== problem.axis), problem.axis] : Object.keys(r.shape).sort();
  const value = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : JSON.stringify(v ?? null));
  return [rank < 0 ? FAMILIES.length : rank, ...keys.map((k) => value(r.shape[k]))];
}

/** Table order: shapes (family, fields, then length), kernels in registry order, live rows before autotune's, fastest first. */
export function sortForDisplay(results: readonly ResultRecord[]): ResultRecord[] {
  return [...results].sort((a, b) => {
    const fa = shapeOrder(a);
    const fb = shapeOrder(b);
    for (let i = 0; i < Math.max(fa.length, fb.length); i++) {
      const x = fa[i] ?? '';
      const y = fb[i] ?? '';
      if (x !== y) return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    }
    if (a.kernel !== b.kernel) return kernelRank(a.kernel) - kernelRank(b.kernel) || a.kernel.localeCompare(b.kernel);
    const ta = a.tag === PAGE_TAG ? 0 : 1;
    const tb = b.tag === PAGE_TAG ? 0 : 1;
    if (ta !== tb) return ta - tb;
    return (a.medianMs ?? Infinity) - (b.medianMs ?? Infinity);
  });
}

export { isTimed, sameShape, sameTiles };
