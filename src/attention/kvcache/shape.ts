import { AttentionInputError } from '../../errors.js';
import { checkFields, fieldDefaults } from '../fields.js';
import type { RawShape, ShapeField } from '../types.js';

export const BLOCK_SIZES = [8, 16, 32, 64] as const;
export const POLICIES = ['window', 'score', 'random'] as const;
export type Policy = (typeof POLICIES)[number];
export type CacheType = 'f32' | 'f16';

/** A block-table entry past a sequence's blocks after compaction. */
export const NO_BLOCK = 0xffffffff;

export const KVCACHE_FIELDS: readonly ShapeField[] = [
  {
    key: 'batch',
    flag: 'batch',
    url: 'b',
    label: 'Batch',
    help: 'Sequences in the cache; sequence b holds seqK − ⌊b·seqK/(2·batch)⌋ tokens (ragged).',
    kind: 'int',
    min: 1,
    max: 1024,
    default: 1,
  },
  {
    key: 'seqK',
    flag: 'seq',
    url: 'n',
    label: 'Context lengths',
    help: 'Tokens of the longest sequence (the block table has room for this many per sequence).',
    kind: 'int',
    min: 1,
    max: 1 << 22,
    default: 4096,
  },
  { key: 'kvHeads', flag: 'kv-heads', url: 'kvh', label: 'KV heads', help: 'Key/value heads stored per token.', kind: 'int', min: 1, max: 256, default: 8 },
  {
    key: 'headDim',
    flag: 'dim',
    url: 'd',
    label: 'Head dim',
    help: 'Features per head (even for f16: rows are copied as 32-bit words).',
    kind: 'int',
    min: 1,
    max: 1024,
    default: 128,
  },
  {
    key: 'blockSize',
    flag: 'block',
    url: 'bs',
    label: 'Block size',
    help: 'Tokens per cache block: 8, 16, 32 or 64.',
    kind: 'int',
    min: 8,
    max: 64,
    default: 16,
  },
  {
    key: 'dtype',
    flag: 'dtype',
    url: 'dt',
    label: 'Cache type',
    help: 'Element type of the K and V pools.',
    kind: 'choice',
    choices: ['f32', 'f16'],
    default: 'f32',
  },
  {
    key: 'policy',
    flag: 'policy',
    url: 'pol',
    label: 'Eviction policy',
    help: 'window: sinks + recent window (StreamingLLM); score: keep the highest key-norm tokens; random: scattered eviction.',
    kind: 'choice',
    choices: POLICIES,
    default: 'random',
  },
  {
    key: 'evict',
    flag: 'evict',
    url: 'ev',
    label: 'Evicted %',
    help: 'Percent of each sequence evicted by the score and random policies.',
    kind: 'int',
    min: 0,
    max: 100,
    default: 50,
  },
  {
    key: 'sinks',
    flag: 'sinks',
    url: 'snk',
    label: 'Sink tokens',
    help: 'window policy: first tokens always kept.',
    kind: 'int',
    min: 0,
    max: 1 << 22,
    default: 4,
  },
  {
    key: 'window',
    flag: 'window',
    url: 'win',
    label: 'Recent window',
    help: 'window policy: last tokens always kept.',
    kind: 'int',
    min: 0,
    max: 1 << 22,
    default: 128,
  },
];

/** One paged KV cache and the eviction applied to it, every field resolved. */
export interface KvCacheShape {
  batch: number;
  seqK: number;
  kvHeads: number;
  headDim: number;
  blockSize: number;
  dtype: CacheType;
  policy: Policy;
  evict: number;
  sinks: number;
  window: number;
}

export function resolveKvCacheShape(raw: RawShape): KvCacheShape {
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const v = checkFields(KVCACHE_FIELDS, { ...fieldDefaults(KVCACHE_FIELDS, raw), ...given }) as unknown as KvCacheShape;
  if (!(BLOCK_SIZES as readonly number[]).includes(v.blockSize)) {
    throw new AttentionInputError(`blockSize must be one of ${BLOCK_SIZES.join(', ')}, got ${v.blockSize}`);
  }
  if (v.dtype === 'f16' && v.headDim % 2 !== 0) {
    throw new AttentionInputError(`headDim must be even for an f16 cache (rows are copied as 32-bit words), got ${v.headDim}`);
  }
  const s: KvCacheShape = {
    batch: v.batch,
    seqK: v.seqK,
    kvHeads: v.kvHeads,
    headDim: v.headDim,
    blockSize: v.blockSize,
    dtype: v.dtype,
    policy: v.policy,
    evict: v.evict,
    sinks: v.sinks,
    window: v.window,
  };
  const words = (poolElements(s) * elementBytes(s)) / 4;
  if (words > 0xffffffff) throw new AttentionInputError(`the K pool holds ${words} 32-bit words, past the 2³² a u32 index reaches`);
  return s;
}

export function elementBytes(s: KvCacheShape): number {
  return s.dtype === 'f16' ? 2 : 4;
}

/** Block-table columns: blocks the longest sequence needs. */
export function maxBlocksPerSeq(s: KvCacheShape): number {
  return Math.ceil(s.seqK / s.blockSize);
}

/** Pool blocks: room for every sequence to reach seqK (the table is a permutation of the pool). */
export function numBlocks(s: KvCacheShape): number {
  return s.batch * maxBlocksPerSeq(s);
}

export function poolElements(s: KvCacheShape): number {
  return numBlocks(s) * s.kvHeads * s.blockSize * s.headDim;
}

/** Bytes of one token's key (or value) row of one head. */
export function rowBytes(s: KvCacheShape): number {
  return s.headDim * elementBytes(s);
}

/** The seeded inputs' context lengths: ragged, the first sequence the longest. */
export function defaultContextLens(s: KvCacheShape): Uint32Array {
  const lens = new Uint32Array(s.batch);
  for (let b = 0; b < s.batch; b++) lens[b] = Math.max(1, s.seqK - Math.floor((b * s.seqK) / (2 * s.batch)));
  return lens;
}

export function kvCacheLabel(s: KvCacheShape): string {
  const policy = s.policy === 'window' ? `window ${s.sinks}+${s.window}` : `${s.policy} ${s.evict}%`;
  return `B${s.batch} N${s.seqK} Hkv${s.kvHeads} d${s.headDim} bs${s.blockSize} ${s.dtype} ${policy}`;
}
