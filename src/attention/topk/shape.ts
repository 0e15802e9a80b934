import { AttentionInputError } from '../../errors.js';
import { checkFields, fieldDefaults } from '../fields.js';
import type { RawShape, ShapeField } from '../types.js';

/**
 * One shape for every problem of the family (the whole pipeline and its three stages); each
 * problem exposes only the fields it reads and fills the others with these defaults.
 */
export interface TopkShape {
  batch: number;
  heads: number;
  kvHeads: number;
  /** N: queries and keys (causal self-attention, query i sees keys 0..i). */
  seqK: number;
  headDim: number;
  /** Keys each query attends to (all i + 1 of them when i + 1 ≤ topK). */
  topK: number;
  indexHeads: number;
  indexDim: number;
  /** Stage problems only: the last `queryRows` queries are scored or selected (a bounded block, never N × N). */
  queryRows: number;
  /** Seeded inputs with many exactly tied index scores, to check the lower-index rule. */
  ties: boolean;
  /** Softmax scale of the attention stage: 1/√headDim. */
  scale: number;
}

const F = {
  batch: { key: 'batch', flag: 'batch', url: 'b', label: 'Batch', help: 'Independent sequences.', kind: 'int', min: 1, max: 4096, default: 1 },
  heads: { key: 'heads', flag: 'heads', url: 'h', label: 'Heads', help: 'Query heads per batch element.', kind: 'int', min: 1, max: 1024, default: 4 },
  kvHeads: {
    key: 'kvHeads',
    flag: 'kv-heads',
    url: 'kvh',
    label: 'KV heads',
    help: 'Key/value heads; must divide Heads. Every head of a query attends to the same selected keys.',
    kind: 'int',
    min: 1,
    max: 1024,
    default: { sameAs: 'heads' },
  },
  seqK: {
    key: 'seqK',
    flag: 'seq',
    url: 'n',
    label: 'Sequence lengths',
    help: 'N: queries and keys (causal self-attention).',
    kind: 'int',
    min: 1,
    max: 1 << 22,
    default: 256,
  },
  headDim: {
    key: 'headDim',
    flag: 'dim',
    url: 'd',
    label: 'Head dim',
    help: 'd: features per attention head (a multiple of 4).',
    kind: 'int',
    min: 4,
    max: 512,
    default: 64,
  },
  topK: {
    key: 'topK',
    flag: 'topk',
    url: 'topk',
    label: 'Top-k',
    help: 'Keys each query attends to (DeepSeek V3.2: 2048).',
    kind: 'int',
    min: 1,
    max: 8192,
    default: 64,
  },
  indexHeads: {
    key: 'indexHeads',
    flag: 'index-heads',
    url: 'ih',
    label: 'Index heads',
    help: 'Heads of the lightning indexer (DeepSeek V3.2: 64, in FP8).',
    kind: 'int',
    min: 1,
    max: 128,
    default: 4,
  },
  indexDim: {
    key: 'indexDim',
    flag: 'index-dim',
    url: 'id',
    label: 'Index dim',
    help: 'Features per index head, a multiple of 4 (DeepSeek V3.2: 128).',
    kind: 'int',
    min: 4,
    max: 512,
    default: 64,
  },
  queryRows: {
    key: 'queryRows',
    flag: 'query-rows',
    url: 'rows',
    label: 'Query rows',
    help: 'Stage problems: how many of the last queries are scored or selected (R × N scores, never N × N). Left out: every query while the scores stay within 256 MiB, else the last 2²⁶ / (batch·N).',
    kind: 'int',
    min: 1,
    max: 1 << 22,
    default: { sameAs: 'seqK' },
  },
  ties: {
    key: 'ties',
    flag: 'ties',
    url: 'ties',
    label: 'Tied scores',
    help: 'Seeded inputs with many exactly tied index scores (few distinct index keys): selection must take the lower key index.',
    kind: 'bool',
    default: false,
  },
} satisfies Record<string, ShapeField>;

export const PIPELINE_FIELDS: readonly ShapeField[] = [F.batch, F.heads, F.kvHeads, F.seqK, F.headDim, F.topK, F.indexHeads, F.indexDim, F.ties];
export const INDEX_FIELDS: readonly ShapeField[] = [F.batch, F.seqK, F.queryRows, F.indexHeads, F.indexDim, F.ties];
export const SELECT_FIELDS: readonly ShapeField[] = [F.batch, F.seqK, F.queryRows, F.topK, F.ties];
export const ATTEND_FIELDS: readonly ShapeField[] = [F.batch, F.heads, F.kvHeads, F.seqK, F.headDim, F.topK];

const ALL_FIELDS: readonly ShapeField[] = Object.values(F);

/** Score bytes a stage problem's default block stays within (R × N × 4 per batch element). */
export const DEFAULT_STAGE_SCORE_BYTES = 256 * 2 ** 20;

/**
 * Default queryRows: every query while batch × R × N scores fit DEFAULT_STAGE_SCORE_BYTES, else the
 * last 2²⁶ / (batch·N) queries (1024 at N = 65536): all N rows there would need 16 GiB, past any
 * maxStorageBufferBindingSize, and the last rows are the costliest (they see the most keys).
 */
export function defaultQueryRows(batch: number, seqK: number): number {
  return Math.min(seqK, Math.max(1, Math.floor(DEFAULT_STAGE_SCORE_BYTES / (4 * batch * seqK))));
}

/** Fills defaults for `fields` (and every other field of the family), then checks the fields against each other. */
export function resolveTopkShape(fields: readonly ShapeField[], raw: RawShape): TopkShape {
  const given = Object.fromEntries(Object.entries(raw).filter(([key, v]) => v !== undefined && fields.some((f) => f.key === key)));
  const values = checkFields(ALL_FIELDS, fieldDefaults(ALL_FIELDS, given)) as unknown as Omit<TopkShape, 'scale'>;
  // A stage problem that has no query-rows field scores every query; the pipeline always does.
  const hasRows = fields.some((f) => f.key === 'queryRows');
  const queryRows = !hasRows ? values.seqK : raw.queryRows !== undefined ? values.queryRows : defaultQueryRows(values.batch, values.seqK);
  const s: TopkShape = { ...values, queryRows, scale: 1 / Math.sqrt(values.headDim) };
  if (s.heads % s.kvHeads !== 0) {
    throw new AttentionInputError(`kvHeads (${s.kvHeads}) must divide heads (${s.heads})`);
  }
  if (s.queryRows > s.seqK) {
    throw new AttentionInputError(`queryRows (${s.queryRows}) must be at most the sequence length seqK (${s.seqK})`);
  }
  if (s.indexDim % 4 !== 0) throw new AttentionInputError(`indexDim must be a multiple of 4, got ${s.indexDim}`);
  if (s.headDim % 4 !== 0) throw new AttentionInputError(`headDim must be a multiple of 4, got ${s.headDim}`);
  return s;
}

/** First query of the stage problems' block: the last queryRows queries, which see the most keys. */
export function firstQuery(s: TopkShape): number {
  return s.seqK - s.queryRows;
}

/** Keys query i attends to: min(i + 1, topK). */
export function selectedCount(s: TopkShape, i: number): number {
  return Math.min(i + 1, s.topK);
}

/** Σ over queries of min(i + 1, topK): selected (query, key) pairs per head and batch element. */
export function selectedPairs(s: TopkShape): number {
  const k = Math.min(s.topK, s.seqK);
  // Queries 0..k-1 select i + 1 keys; the other N − k select topK.
  return (k * (k + 1)) / 2 + (s.seqK - k) * s.topK;
}

/** Causal (query, key) pairs of rows [first, first + rows): Σ (i + 1). */
export function causalPairs(first: number, rows: number): number {
  return rows * first + (rows * (rows + 1)) / 2;
}
