import { FAMILIES, KERNELS } from '../../attention/registry.js';
import { isTimed } from '../../results/match.js';
import { problemOf } from '../../results/label.js';
import type { ResultRecord } from '../../results/schema.js';

/*
 * The cross-family comparison: time against sequence length for kernels of any family, from the
 * page's results and an imported file, on one log–log chart. Families have different shape fields,
 * so the comparison first settles on one batch, head count and head dim that the ticked kernels
 * share, says which rows it left out and why, and then finds where each kernel's curve crosses a
 * reference kernel's (the length from which sparse, windowed or linear attention pays off).
 */

/** Where a row came from: this page's results or the imported results file (another device, another day). */
export type SourceId = 'results' | 'imported';

export interface SourceRows {
  source: SourceId;
  rows: readonly ResultRecord[];
}

/** A kernel the user can tick: one kernel of one family in one source. */
export interface Candidate {
  key: string;
  source: SourceId;
  family: string;
  kernel: string;
  /** Rows that passed and were timed: the only ones drawn. */
  timed: number;
}

/** The sizes every compared row must share; null: the rows kept have no such field (e.g. the indexer stage has no heads). */
export interface CommonDims {
  batch: number | null;
  heads: number | null;
  /** The head dim as text: "64", or "64/128" for a linear row whose d_k and d_v differ. */
  headDim: string | null;
}

export interface SeriesPoint {
  n: number;
  ms: number;
  record: ResultRecord;
}

export interface CompareSeries {
  key: string;
  candidate: string;
  source: SourceId;
  family: string;
  kernel: string;
  /** The kernel, its causal flag for dense rows, the fields that tell its variants apart, and "(imported)" when sources are mixed. */
  label: string;
  /** Ascending in n, one point (the fastest row) per length. */
  points: SeriesPoint[];
}

export interface LeftOut {
  candidate: string;
  kernel: string;
  source: SourceId;
  count: number;
  reason: string;
}

export interface Comparison {
  /** The sizes it settled on; null when nothing is ticked or nothing was timed. */
  common: CommonDims | null;
  /** Every choice of common sizes the ticked rows offer, best first (the first is the default). */
  choices: CommonDims[];
  series: CompareSeries[];
  leftOut: LeftOut[];
  /** Lengths of every series, ascending: the chart's x values. */
  xs: number[];
}

/** Families whose attention is causal: only causal dense rows compare with them. */
const CAUSAL_FAMILIES = new Set(['window', 'topk', 'topk-index', 'topk-select', 'topk-attend', 'linear']);

export const candidateKey = (source: SourceId, family: string, kernel: string): string => `${source}/${family}/${kernel}`;

/** Registry order (families, then their kernels), unknown ones last by name. */
function rank(family: string, kernel: string): [number, number] {
  const f = FAMILIES.findIndex((x) => x.problem.family === family);
  const k = KERNELS.findIndex((x) => x.name === kernel);
  return [f < 0 ? FAMILIES.length : f, k < 0 ? KERNELS.length : k];
}

function byRegistry<T extends { family: string; kernel: string; source: SourceId }>(a: T, b: T): number {
  const [fa, ka] = rank(a.family, a.kernel);
  const [fb, kb] = rank(b.family, b.kernel);
  const sa = a.source === 'results' ? 0 : 1;
  const sb = b.source === 'results' ? 0 : 1;
  return sa - sb || fa - fb || ka - kb || a.kernel.localeCompare(b.kernel);
}

/** Every kernel of every source, in registry order, with how many of its rows can be drawn. */
export function compareCandidates(sources: readonly SourceRows[]): Candidate[] {
  const map = new Map<string, Candidate>();
  for (const { source, rows } of sources) {
    for (const r of rows) {
      const key = candidateKey(source, r.family, r.kernel);
      const c = map.get(key) ?? { key, source, family: r.family, kernel: r.kernel, timed: 0 };
      if (isTimed(r)) c.timed++;
      map.set(key, c);
    }
  }
  return [...map.values()].sort(byRegistry);
}

/** The shape fields the record's family has (its own, not the defaults a stage problem fills in). */
function ownKeys(r: ResultRecord): Set<string> {
  const problem = problemOf(r);
  return new Set(problem ? problem.fields.map((f) => f.key) : Object.keys(r.shape));
}

/** A row's batch, heads and head dim; linear attention's head dim is its d_k and d_v. */
export function dimsOf(r: ResultRecord): CommonDims {
  const own = ownKeys(r);
  const num = (key: string): number | null => {
    const v = r.shape[key];
    return own.has(key) && typeof v === 'number' ? v : null;
  };
  const dk = num('dk');
  const dv = num('dv');
  const headDim = dk !== null && dv !== null ? (dk === dv ? String(dk) : `${dk}/${dv}`) : num('headDim') === null ? null : String(num('headDim'));
  return { batch: num('batch'), heads: num('heads'), headDim };
}

const dimsKey = (d: CommonDims): string => `${d.batch ?? '*'}|${d.heads ?? '*'}|${d.headDim ?? '*'}`;

/** "B1 H16 d128": the sizes in the results table's label style. */
export function dimsLabel(d: CommonDims): string {
  const parts = [d.batch === null ? null : `B${d.batch}`, d.heads === null ? null : `H${d.heads}`, d.headDim === null ? null : `d${d.headDim}`];
  return parts.filter((p) => p !== null).join(' ') || 'any size';
}

/** A row fits the common sizes when every size it has equals the common one (a size it lacks cannot differ). */
function fits(d: CommonDims, common: CommonDims): boolean {
  return (
    (d.batch === null || common.batch === null || d.batch === common.batch) &&
    (d.heads === null || common.heads === null || d.heads === common.heads) &&
    (d.headDim === null || common.headDim === null || d.headDim === common.headDim)
  );
}

function misfit(d: CommonDims, common: CommonDims): string {
  const diffs: string[] = [];
  if (d.batch !== null && common.batch !== null && d.batch !== common.batch) diffs.push(`batch ${d.batch}`);
  if (d.heads !== null && common.heads !== null && d.heads !== common.heads) diffs.push(`heads ${d.heads}`);
  if (d.headDim !== null && common.headDim !== null && d.headDim !== common.headDim) diffs.push(`head dim ${d.headDim}`);
  return `${diffs.join(', ')}, not the common ${dimsLabel(common)}`;
}

/**
 * The common sizes on offer, best first: the one that keeps the most ticked kernels, then the most
 * rows. Choices come from rows that have all three sizes, so that a row lacking one (the indexer
 * stage) never lets two kernels of different head dims through together.
 */
function dimChoices(rows: readonly { candidate: string; dims: CommonDims }[]): CommonDims[] {
  const full = rows.filter((r) => r.dims.batch !== null && r.dims.heads !== null && r.dims.headDim !== null);
  const offered = new Map<string, CommonDims>();
  for (const r of full.length > 0 ? full : rows) offered.set(dimsKey(r.dims), r.dims);
  const score = (d: CommonDims) => {
    const kept = rows.filter((r) => fits(r.dims, d));
    return { kernels: new Set(kept.map((r) => r.candidate)).size, rows: kept.length };
  };
  return [...offered.values()]
    .map((d) => ({ d, s: score(d) }))
    .sort((a, b) => b.s.kernels - a.s.kernels || b.s.rows - a.s.rows || dimsKey(a.d).localeCompare(dimsKey(b.d)))
    .map((x) => x.d);
}

/**
 * The fields that tell one kernel's series apart beyond the common sizes and the length (a
 * window's size, top-k, a linear rule, GQA heads). A field that follows the length by default
 * (seqQ in self-attention, the stages' queryRows) reads as "N" when it does, so that it does not
 * split the series per length.
 */
function variantFields(r: ResultRecord): [string, string][] {
  const problem = problemOf(r);
  const axis = problem?.axis ?? 'seqK';
  const skip = new Set([axis, 'batch', 'heads', 'headDim', 'dk', 'dv', 'scale', 'causal']);
  const follows = (key: string, same: string) => {
    const d = problem?.fields.find((f) => f.key === key)?.default;
    return typeof d === 'object' && d !== null && 'sameAs' in d && d.sameAs === same && r.shape[key] === r.shape[same];
  };
  return [...ownKeys(r)]
    .filter((k) => !skip.has(k) && r.shape[k] !== undefined)
    .map((k) => {
      const v = r.shape[k];
      if (follows(k, axis)) return [k, 'N'] as [string, string];
      if (follows(k, 'heads')) return [k, 'H'] as [string, string];
      return [k, Array.isArray(v) ? v.join(':') : String(v)] as [string, string];
    });
}

/**
 * The comparison for the ticked kernels: rows kept at the common sizes (the first choice unless
 * `prefer` names another), one series per kernel and variant, and every row left out with why.
 */
export function compareSeries(sources: readonly SourceRows[], ticked: ReadonlySet<string>, prefer?: string): Comparison {
  const leftOut = new Map<string, LeftOut>();
  const leave = (candidate: string, r: ResultRecord, source: SourceId, reason: string) => {
    const key = `${candidate}|${reason}`;
    const entry = leftOut.get(key) ?? { candidate, kernel: r.kernel, source, count: 0, reason };
    entry.count++;
    leftOut.set(key, entry);
  };
  const all = sources.flatMap(({ source, rows }) =>
    rows.map((record) => ({ source, record, candidate: candidateKey(source, record.family, record.kernel) })).filter((x) => ticked.has(x.candidate)),
  );
  const causalOnly = all.some((x) => CAUSAL_FAMILIES.has(x.record.family));
  const timed = all.filter((x) => {
    if (!isTimed(x.record)) {
      leave(x.candidate, x.record, x.source, `not timed (${x.record.status})`);
      return false;
    }
    if (causalOnly && x.record.family === 'dense' && x.record.shape.causal !== true) {
      leave(x.candidate, x.record, x.source, 'not causal: window, top-k and linear attention are causal, so only causal dense rows compare with them');
      return false;
    }
    return true;
  });
  const withDims = timed.map((x) => ({ ...x, dims: dimsOf(x.record) }));
  const choices = dimChoices(withDims);
  const common = choices.find((d) => dimsKey(d) === prefer) ?? choices[0] ?? null;
  const kept = common
    ? withDims.filter((x) => {
        if (fits(x.dims, common)) return true;
        leave(x.candidate, x.record, x.source, misfit(x.dims, common));
        return false;
      })
    : [];
  const mixed = new Set(kept.map((x) => x.source)).size > 1;

  // One series per kernel and variant; a variant field shows in the label only when it varies.
  const byCandidate = new Map<string, typeof kept>();
  for (const x of kept) byCandidate.set(x.candidate, [...(byCandidate.get(x.candidate) ?? []), x]);
  const series: CompareSeries[] = [];
  for (const [candidate, rows] of byCandidate) {
    const variants = new Map<string, typeof kept>();
    for (const x of rows) {
      const sig = JSON.stringify([x.record.shape.causal ?? null, variantFields(x.record)]);
      variants.set(sig, [...(variants.get(sig) ?? []), x]);
    }
    const varying = new Set<string>();
    const first = variantFields(rows[0]!.record);
    for (const x of rows) {
      for (const [k, v] of variantFields(x.record)) if (first.find(([fk]) => fk === k)?.[1] !== v) varying.add(k);
    }
    for (const [sig, vrows] of variants) {
      const r0 = vrows[0]!;
      const axis = problemOf(r0.record)?.axis ?? 'seqK';
      const parts = [r0.record.kernel];
      if (r0.record.family === 'dense') parts.push(r0.record.shape.causal === true ? 'causal' : 'non-causal');
      for (const [k, v] of variantFields(r0.record)) if (varying.has(k)) parts.push(`${k}=${v}`);
      if (mixed && r0.source === 'imported') parts.push('(imported)');
      const best = new Map<number, SeriesPoint>();
      for (const { record } of vrows) {
        const n = record.shape[axis];
        if (typeof n !== 'number') continue;
        const ms = record.medianMs!;
        if (!best.has(n) || best.get(n)!.ms > ms) best.set(n, { n, ms, record });
      }
      series.push({
        key: `${candidate}|${sig}`,
        candidate,
        source: r0.source,
        family: r0.record.family,
        kernel: r0.record.kernel,
        label: parts.join(' '),
        points: [...best.values()].sort((a, b) => a.n - b.n),
      });
    }
  }
  series.sort((a, b) => byRegistry(a, b) || a.label.localeCompare(b.label));
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.n)))].sort((a, b) => a - b);
  return { common, choices, series, leftOut: [...leftOut.values()], xs };
}

export { dimsKey };

/** The comparison's reference kernel, as the results table needs it for its ratio column. */
export interface ComparisonReference {
  label: string;
  /** Whether the reference attends causally; null for a family where the question does not arise (decode, kvcache). */
  causal: boolean | null;
  common: CommonDims;
  points: readonly { n: number; ms: number }[];
}

/** Causal attention or not: the dense flag, always for the causal families, no answer for the others. */
export function causalOf(r: Pick<ResultRecord, 'family' | 'shape'>): boolean | null {
  if (r.family === 'dense') return r.shape.causal === true;
  return CAUSAL_FAMILIES.has(r.family) ? true : null;
}

/** The reference a comparison series gives the results table. */
export function referenceOf(series: CompareSeries, common: CommonDims): ComparisonReference {
  return { label: series.label, causal: causalOf(series.points[0]!.record), common, points: series.points.map((p) => ({ n: p.n, ms: p.ms })) };
}

/**
 * A results row's time ÷ the reference's at the same length, when the row would have been kept
 * beside the reference: timed, at the common sizes, and causal exactly when the reference is.
 */
export function ratioToReference(r: ResultRecord, ref: ComparisonReference): number | null {
  if (!isTimed(r) || !fits(dimsOf(r), ref.common)) return null;
  const causal = causalOf(r);
  if (causal !== null && ref.causal !== null && causal !== ref.causal) return null;
  const n = r.shape[problemOf(r)?.axis ?? 'seqK'];
  const at = ref.points.find((p) => p.n === n);
  return at && at.ms > 0 ? r.medianMs / at.ms : null;
}
