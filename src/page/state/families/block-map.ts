import { kvCacheProblem } from '../../../attention/kvcache/problem.js';
import { type BlockAccounting, blockAccounting, planCompaction } from '../../../attention/kvcache/reference.js';
import { type KvCacheShape, NO_BLOCK, maxBlocksPerSeq, numBlocks, poolElements } from '../../../attention/kvcache/shape.js';
import { type PageConfig, SEED, shapeAt, shapeProblem } from '../config.js';

/** The drawing stays readable (and cheap to lay out) up to this many pool blocks. */
export const MAX_DRAWN_BLOCKS = 4096;
/**
 * The seeded inputs fill both pools before they draw the table and the mask (one random stream),
 * so the exact inputs cost 2·poolElements random numbers. Past this many elements per pool the map
 * is drawn from the same cache one value wide, with the same policy: the table and mask are then
 * the same kind of draw, not the benchmark's own.
 */
export const MAX_POOL_ELEMENTS = 1 << 23;

/**
 * A pool block's state. `full`: every slot holds a live token; `partial`: some do; `free`: it held
 * tokens and holds none now (given back to the allocator); `unused`: pool room no sequence reached
 * (the ragged batch's shorter sequences), free before and after.
 */
export type BlockState = 'full' | 'partial' | 'free' | 'unused';

export interface BlockMap {
  shape: KvCacheShape;
  /** One entry per pool block, by physical block index: after eviction, before compaction. */
  before: BlockState[];
  /** The same blocks once compaction has slid the survivors forward. */
  after: BlockState[];
  accounting: BlockAccounting;
  /** Whether the table and mask came from a one-value-wide stand-in of the cache (see MAX_POOL_ELEMENTS). */
  narrowed: boolean;
}

export type BlockMapResult = { map: BlockMap } | { message: string };

/** The block map at the smallest configured length, or why there is none. */
export function blockMapOf(config: PageConfig): BlockMapResult {
  if (config.family !== 'kvcache') return { message: 'not the kvcache family' };
  const problem = shapeProblem(config);
  if (problem) return { message: problem };
  const shape = shapeAt(config, Math.min(...config.seqs)) as KvCacheShape;
  const blocks = numBlocks(shape);
  if (blocks > MAX_DRAWN_BLOCKS) {
    return {
      message: `The cache has ${blocks} pool blocks at ${shape.seqK} tokens; the map draws at most ${MAX_DRAWN_BLOCKS}: use a shorter smallest length, a smaller batch or larger blocks.`,
    };
  }
  return { map: blockMap(shape) };
}

/** Classifies every pool block of the seeded inputs before and after compaction. */
export function blockMap(shape: KvCacheShape): BlockMap {
  const narrowed = poolElements(shape) > MAX_POOL_ELEMENTS;
  // Only the pools' width differs: table, lengths and mask have the configured dimensions.
  const source: KvCacheShape = narrowed ? { ...shape, kvHeads: 1, headDim: shape.dtype === 'f16' ? 2 : 1 } : shape;
  const inputs = kvCacheProblem.inputs(source, SEED);
  const idx = { blockTable: inputs.blockTable as Uint32Array, contextLens: inputs.contextLens as Uint32Array, keep: inputs.keep as Uint32Array };
  const plan = planCompaction(shape, idx);
  const perSeq = maxBlocksPerSeq(shape);
  const before: BlockState[] = new Array(numBlocks(shape)).fill('unused');
  const after: BlockState[] = new Array(numBlocks(shape)).fill('unused');
  for (let b = 0; b < shape.batch; b++) {
    const len = idx.contextLens[b]!;
    const held = Math.ceil(len / shape.blockSize);
    for (let j = 0; j < held; j++) {
      let live = 0;
      for (let t = j * shape.blockSize; t < Math.min(len, (j + 1) * shape.blockSize); t++) live += idx.keep[b * shape.seqK + t] ? 1 : 0;
      before[idx.blockTable[b * perSeq + j]!] = stateOf(live, shape.blockSize);
    }
    // The plan's new table: survivor d sits in entry ⌊d / blockSize⌋, so entry j holds what is left of newLen past j blocks.
    const newLen = plan.newLens[b]!;
    for (let j = 0; j < perSeq; j++) {
      const block = plan.newTable[b * perSeq + j]!;
      if (block !== NO_BLOCK) after[block] = stateOf(Math.min(shape.blockSize, newLen - j * shape.blockSize), shape.blockSize);
    }
  }
  for (const block of plan.freeList) after[block] = 'free';
  return { shape, before, after, accounting: blockAccounting(shape, idx.keep, idx.contextLens), narrowed };
}

function stateOf(live: number, blockSize: number): BlockState {
  return live === 0 ? 'free' : live === blockSize ? 'full' : 'partial';
}

/** Blocks in each state. */
export function countStates(states: readonly BlockState[]): Record<BlockState, number> {
  const counts: Record<BlockState, number> = { full: 0, partial: 0, free: 0, unused: 0 };
  for (const s of states) counts[s]++;
  return counts;
}
