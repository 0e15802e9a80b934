import { AttentionInputError } from '../../errors.js';

/**
 * One decode step over a KV cache. Q and O are [batch, heads, seqQ, headDim] f32: the last seqQ
 * positions of each sequence, causal inside the block. K and V are either contiguous
 * [batch, kvHeads, seqK, headDim] or a paged pool [numBlocks, kvHeads, blockSize, headDim] read
 * through a block table, in f32 or f16.
 */
export interface DecodeShape {
  batch: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Context length (the longest, with mixed lengths): the keys a sequence holds. */
  seqK: number;
  /** 'equal': every sequence holds seqK keys; 'mixed': sequence b holds ceil(seqK·(b+1)/batch). */
  lengths: 'equal' | 'mixed';
  /** Query rows per sequence (1 for plain decode, more for speculative decoding). */
  seqQ: number;
  kvType: 'f32' | 'f16';
  layout: 'contiguous' | 'paged';
  /** Keys per cache block (paged layout only). */
  blockSize: number;
  scale: number;
}

export const BLOCK_SIZES = [8, 16, 32, 64] as const;

/** Context length of every sequence, as the seeded inputs hold them. */
export function contextLengths(s: Pick<DecodeShape, 'batch' | 'seqK' | 'lengths'>): number[] {
  return Array.from({ length: s.batch }, (_, b) => (s.lengths === 'equal' ? s.seqK : Math.ceil((s.seqK * (b + 1)) / s.batch)));
}

/** Block-table slots per sequence: enough blocks for seqK keys. */
export function blocksPerSequence(s: DecodeShape): number {
  return Math.ceil(s.seqK / s.blockSize);
}

/** Blocks of the paged pool: those the sequences use, plus spares so the pool is larger than needed. */
export function poolBlocks(s: DecodeShape): number {
  const used = contextLengths(s).reduce((sum, n) => sum + Math.ceil(n / s.blockSize), 0);
  return used + spareBlocks(used);
}

export function spareBlocks(used: number): number {
  return Math.max(3, Math.ceil(used / 16));
}

/** Keys one KV tensor holds in its layout: rows of headDim values per kv head. */
export function kvRows(s: DecodeShape): number {
  return s.layout === 'paged' ? poolBlocks(s) * s.kvHeads * s.blockSize : s.batch * s.kvHeads * s.seqK;
}

export function kvDims(s: DecodeShape): number[] {
  return s.layout === 'paged' ? [poolBlocks(s), s.kvHeads, s.blockSize, s.headDim] : [s.batch, s.kvHeads, s.seqK, s.headDim];
}

export const KV_ELEMENT_BYTES = { f32: 4, f16: 2 } as const;

/** Query rows of one GQA group: the heads sharing a kv head, times the query rows of each. */
export function groupRows(s: DecodeShape): number {
  return (s.heads / s.kvHeads) * s.seqQ;
}

/** Keys row i (0-based, of seqQ) of a sequence of `length` keys sees: causal inside the query block. */
export function visibleKeys(length: number, seqQ: number, i: number): number {
  return length - seqQ + i + 1;
}

/** (query, visible key) pairs of one head over the whole batch. */
export function visiblePairsPerHead(s: DecodeShape): number {
  // Σ_i (len − Nq + i + 1) = Nq·len − Nq(Nq − 1)/2 per sequence.
  return contextLengths(s).reduce((sum, n) => sum + s.seqQ * n - (s.seqQ * (s.seqQ - 1)) / 2, 0);
}

export function checkConsistency(s: DecodeShape): void {
  if (s.heads % s.kvHeads !== 0) {
    throw new AttentionInputError(`heads (${s.heads}) must be divisible by kvHeads (${s.kvHeads}) for grouped-query attention`);
  }
  if (!(BLOCK_SIZES as readonly number[]).includes(s.blockSize)) {
    throw new AttentionInputError(`blockSize must be one of ${BLOCK_SIZES.join(', ')}, got ${s.blockSize}`);
  }
  const shortest = Math.min(...contextLengths(s));
  if (s.seqQ > shortest) {
    throw new AttentionInputError(
      `seqQ = ${s.seqQ} query rows need at least as many keys, but the shortest context holds ${shortest} (seqK = ${s.seqK}, lengths ${s.lengths})`,
    );
  }
  if (!Number.isFinite(s.scale)) throw new AttentionInputError(`scale must be a finite number, got ${String(s.scale)}`);
}

/** A compact label such as "B1 H32/8 Nk131072 d128 f16 paged16". */
export function decodeLabel(s: DecodeShape): string {
  const heads = s.kvHeads === s.heads ? `H${s.heads}` : `H${s.heads}/${s.kvHeads}`;
  const q = s.seqQ > 1 ? ` Nq${s.seqQ}` : '';
  const mixed = s.lengths === 'mixed' ? ' mixed' : '';
  const layout = s.layout === 'paged' ? ` paged${s.blockSize}` : '';
  return `B${s.batch} ${heads}${q} Nk${s.seqK}${mixed} d${s.headDim} ${s.kvType}${layout}`;
}
