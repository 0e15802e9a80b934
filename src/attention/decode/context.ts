// What every decode step over a KV cache shares, whatever the cache holds: the batch of sequences
// with their context lengths, the causal block of Nq query rows at the end of each, the cache's
// element type, and the fields, inputs and checks that follow from them. The decode family (GQA
// heads, contiguous or paged K and V) and the mla family (one shared latent row per token) both
// build on these.
import { AttentionInputError } from '../../errors.js';
import { checkFields, fieldDefaults } from '../fields.js';
import { fromHalfBits, toHalfBits } from '../half.js';
import type { Expected, HostTensor, RawShape, ShapeField } from '../types.js';

/** The fields of a decode step that do not depend on what a cache row holds. */
export interface DecodeStepShape {
  batch: number;
  heads: number;
  /** Context length (the longest, with mixed lengths): the keys (tokens) a sequence holds. */
  seqK: number;
  /** 'equal': every sequence holds seqK keys; 'mixed': sequence b holds ceil(seqK·(b+1)/batch). */
  lengths: 'equal' | 'mixed';
  /** Query rows per sequence: the last seqQ positions, causal among themselves (1 for plain decode). */
  seqQ: number;
  kvType: 'f32' | 'f16';
  scale: number;
}

export const KV_ELEMENT_BYTES = { f32: 4, f16: 2 } as const;

/** Context length of every sequence, as the seeded inputs hold them. */
export function contextLengths(s: Pick<DecodeStepShape, 'batch' | 'seqK' | 'lengths'>): number[] {
  return Array.from({ length: s.batch }, (_, b) => (s.lengths === 'equal' ? s.seqK : Math.ceil((s.seqK * (b + 1)) / s.batch)));
}

/** Keys row i (0-based, of seqQ) of a sequence of `length` keys sees: causal inside the query block. */
export function visibleKeys(length: number, seqQ: number, i: number): number {
  return length - seqQ + i + 1;
}

/** (query, visible key) pairs of one head over the whole batch. */
export function visiblePairsPerHead(s: Pick<DecodeStepShape, 'batch' | 'seqK' | 'lengths' | 'seqQ'>): number {
  // Σ_i (len − Nq + i + 1) = Nq·len − Nq(Nq − 1)/2 per sequence.
  return contextLengths(s).reduce((sum, n) => sum + s.seqQ * n - (s.seqQ * (s.seqQ - 1)) / 2, 0);
}

/**
 * A shape from raw values: every field filled with its default and checked, and the scale as given
 * or `defaultScale` of the other fields. The family's consistency checks come after.
 */
export function resolveStepShape<S extends DecodeStepShape>(
  fields: readonly ShapeField[],
  raw: RawShape,
  defaultScale: (values: Omit<S, 'scale'>) => number,
): S {
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const values = checkFields(fields, { ...fieldDefaults(fields, raw), ...given }) as unknown as Omit<S, 'scale'>;
  return { ...values, scale: typeof raw.scale === 'number' ? raw.scale : defaultScale(values) } as S;
}

/** Refuses a query block longer than the shortest context and a scale that is not finite. */
export function checkQueryBlock(s: DecodeStepShape): void {
  const shortest = Math.min(...contextLengths(s));
  if (s.seqQ > shortest) {
    throw new AttentionInputError(
      `seqQ = ${s.seqQ} query rows need at least as many keys, but the shortest context holds ${shortest} (seqK = ${s.seqK}, lengths ${s.lengths})`,
    );
  }
  if (!Number.isFinite(s.scale)) throw new AttentionInputError(`scale must be a finite number, got ${String(s.scale)}`);
}

/** The part of a shape's label after the heads: " Nq3 Nk4096 mixed" (Nq only past 1, mixed only when so). */
export function contextLabel(s: DecodeStepShape): string {
  const q = s.seqQ > 1 ? ` Nq${s.seqQ}` : '';
  const mixed = s.lengths === 'mixed' ? ' mixed' : '';
  return `${q} Nk${s.seqK}${mixed}`;
}

// Fields that mean the same in every decode-step family (same flag, URL key and limits); heads and
// the cache's own widths and layout are each family's.
export const BATCH_FIELD: ShapeField = {
  key: 'batch',
  flag: 'batch',
  url: 'b',
  label: 'Batch',
  help: 'Sequences decoded together.',
  kind: 'int',
  min: 1,
  max: 1024,
  default: 1,
};

/** The context length field; `unit` names what the cache holds per position ("Keys", "Tokens"). */
export function contextLengthField(unit: string): ShapeField {
  return {
    key: 'seqK',
    flag: 'seq',
    url: 'n',
    label: 'Context lengths',
    help: `${unit} in the cache per sequence (the longest one with mixed lengths).`,
    kind: 'int',
    min: 1,
    max: 1 << 20,
    default: 4096,
  };
}

export const LENGTHS_FIELD: ShapeField = {
  key: 'lengths',
  flag: 'lengths',
  url: 'len',
  label: 'Context lengths across the batch',
  help: 'equal: every sequence holds the full context; mixed: sequence b holds ceil(n·(b+1)/batch) keys.',
  kind: 'choice',
  choices: ['equal', 'mixed'],
  default: 'equal',
};

export const QUERY_ROWS_FIELD: ShapeField = {
  key: 'seqQ',
  flag: 'seq-q',
  url: 'nq',
  label: 'Query rows',
  help: 'Query rows per sequence (the last Nq positions, causal among themselves): 1 for decode, more for speculative decoding.',
  kind: 'int',
  min: 1,
  max: 16,
  default: 1,
};

export const KV_TYPE_FIELD: ShapeField = {
  key: 'kvType',
  flag: 'kv-type',
  url: 'kvt',
  label: 'KV storage',
  help: 'Element type of the K/V cache (Q and O stay f32).',
  kind: 'choice',
  choices: ['f32', 'f16'],
  default: 'f16',
};

/** Cache values past each context length: finite (NaN inputs are refused) but large enough that reading one shows. */
export const GARBAGE = 30000;

/**
 * The cache in its storage type: f32 as it is, f16 as half bits. A plain loop: Uint16Array.from(x,
 * fn) goes through a JS array, whose length V8 caps at about 2^27 (a B=1, Hkv=8, Nk=131072, d=128
 * cache is exactly that many values and ran out of memory).
 */
export function storeKv(x: Float32Array, kvType: DecodeStepShape['kvType']): HostTensor {
  if (kvType !== 'f16') return x;
  const half = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) half[i] = toHalfBits(x[i]!);
  return half;
}

/** Refuses half-precision infinities and NaNs in a cache tensor (f32 ones are checked with the other float inputs). */
export function refuseHalfNonFinite(name: string, data: HostTensor | undefined): void {
  if (!(data instanceof Uint16Array)) return;
  for (let i = 0; i < data.length; i++) {
    if ((data[i]! & 0x7c00) === 0x7c00) {
      throw new AttentionInputError(`${name}[${i}] is a half-precision ${data[i]! & 0x3ff ? 'NaN' : 'infinity'}: GPU kernels need finite inputs`);
    }
  }
}

/** Refuses context length `n` of sequence `b` past the cache or shorter than the query block. */
export function checkContextLength(s: DecodeStepShape, b: number, n: number): void {
  if (n > s.seqK) throw new AttentionInputError(`contextLens[${b}] = ${n} is past seqK = ${s.seqK}, the cache's length`);
  if (n < s.seqQ) throw new AttentionInputError(`contextLens[${b}] = ${n} is shorter than seqQ = ${s.seqQ}: every query row needs its own key`);
}

/** Cache values as numbers: f32 as they are, f16 decoded from their bits (the values the GPU reads). */
export function cacheReader(data: Float32Array | Uint16Array): (i: number) => number {
  return data instanceof Uint16Array ? (i) => fromHalfBits(data[i]!) : (i) => data[i]!;
}

/**
 * Decode attention in float64, the definition the kernels are checked against: for each given row
 * (flat (b·heads + h)·seqQ + i, in that order), softmax over keys j < len_b − Nq + i + 1 of
 * scale·score(row, b, h, j), times the `width` values addValue adds for key j with weight p.
 */
export function referenceDecodeRows(
  s: DecodeStepShape,
  lens: Uint32Array,
  rows: readonly number[],
  width: number,
  score: (row: number, b: number, h: number, j: number) => number,
  addValue: (acc: Float64Array, p: number, b: number, h: number, j: number) => void,
): Float64Array {
  const out = new Float64Array(rows.length * width);
  const acc = new Float64Array(width);
  let scores = new Float64Array(0);
  rows.forEach((row, r) => {
    const i = row % s.seqQ;
    const h = Math.floor(row / s.seqQ) % s.heads;
    const b = Math.floor(row / (s.seqQ * s.heads));
    const n = visibleKeys(lens[b]!, s.seqQ, i);
    if (scores.length < n) scores = new Float64Array(n);
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      scores[j] = score(row, b, h, j) * s.scale;
      max = Math.max(max, scores[j]!);
    }
    acc.fill(0);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const p = Math.exp(scores[j]! - max);
      sum += p;
      addValue(acc, p, b, h, j);
    }
    for (let c = 0; c < width; c++) out[r * width + c] = acc[c]! / sum;
  });
  return out;
}

/**
 * Rows to check within `budget` multiply-adds, given what one (sequence, head) pair's rows cost at
 * a context length: every row when it fits, otherwise every query row of an evenly strided, fixed
 * set of (batch, head) pairs, always including the first and the last.
 */
export function sampleReferenceRows(s: DecodeStepShape, lens: Uint32Array, budget: number, pairCost: (length: number) => number): number[] {
  const pairs = s.batch * s.heads;
  let total = 0;
  for (let p = 0; p < pairs; p++) total += pairCost(lens[Math.floor(p / s.heads)]!);
  let chosen: number[];
  if (total <= budget) chosen = Array.from({ length: pairs }, (_, p) => p);
  else {
    const count = Math.min(pairs, Math.max(2, Math.floor(budget / Math.max(1, pairCost(s.seqK)))));
    const set = new Set<number>([0, pairs - 1]);
    for (let n = 0; set.size < count && n < count; n++) set.add(Math.floor(((n + 0.5) * pairs) / count));
    chosen = [...set].sort((a, b) => a - b);
  }
  return chosen.flatMap((p) => Array.from({ length: s.seqQ }, (_, i) => p * s.seqQ + i));
}

/** The reference output O of `rows` (rowWidth values each): whole when the rows are all of them, else those rows. */
export function referenceOutput(s: DecodeStepShape, rows: number[], values: Float64Array, rowWidth: number): Expected {
  const all = rows.length === s.batch * s.heads * s.seqQ;
  return { o: all ? { values, rowWidth } : { values, rows, rowWidth } };
}
