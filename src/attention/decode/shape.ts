import { AttentionInputError } from '../../errors.js';
import { type DecodeStepShape, checkQueryBlock, contextLabel, contextLengths } from './context.js';

export { KV_ELEMENT_BYTES, contextLengths, visibleKeys, visiblePairsPerHead } from './context.js';

/**
 * One decode step over a KV cache. Q and O are [batch, heads, seqQ, headDim] f32: the last seqQ
 * positions of each sequence, causal inside the block. K and V are either contiguous
 * [batch, kvHeads, seqK, headDim] or a paged pool [numBlocks, kvHeads, blockSize, headDim] read
 * through a block table, in f32 or f16. The batch, context lengths, query block and storage type
 * are those of every decode step (context.ts).
 */
export interface DecodeShape extends DecodeStepShape {
  kvHeads: number;
  headDim: number;
  layout: 'contiguous' | 'paged';
  /** Keys per cache block (paged layout only). */
  blockSize: number;
}

export const BLOCK_SIZES = [8, 16, 32, 64] as const;

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

/** Query rows of one GQA group: the heads sharing a kv head, times the query rows of each. */
export function groupRows(s: DecodeShape): number {
  return (s.heads / s.kvHeads) * s.seqQ;
}

export function checkConsistency(s: DecodeShape): void {
  if (s.heads % s.kvHeads !== 0) {
    throw new AttentionInputError(`heads (${s.heads}) must be divisible by kvHeads (${s.kvHeads}) for grouped-query attention`);
  }
  if (!(BLOCK_SIZES as readonly number[]).includes(s.blockSize)) {
    throw new AttentionInputError(`blockSize must be one of ${BLOCK_SIZES.join(', ')}, got ${s.blockSize}`);
  }
  checkQueryBlock(s);
}

/** A compact label such as "B1 H32/8 Nk131072 d128 f16 paged16". */
export function decodeLabel(s: DecodeShape): string {
  const heads = s.kvHeads === s.heads ? `H${s.heads}` : `H${s.heads}/${s.kvHeads}`;
  const layout = s.layout === 'paged' ? ` paged${s.blockSize}` : '';
  return `B${s.batch} ${heads}${contextLabel(s)} d${s.headDim} ${s.kvType}${layout}`;
}
