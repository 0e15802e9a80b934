import { fromHalfBits } from '../half.js';
import type { Expected, HostTensor } from '../types.js';
import { type KvCacheShape, NO_BLOCK, defaultContextLens, elementBytes, maxBlocksPerSeq, numBlocks } from './shape.js';

/** The index tensors compaction reads. */
export interface CompactionIndices {
  blockTable: Uint32Array;
  contextLens: Uint32Array;
  keep: Uint32Array;
}

/** Where every survivor goes, and the new table: the integer half of compaction, no cache data. */
export interface CompactionPlan {
  /** Per sequence, the source position of each surviving token in order: survivor d came from srcOf[b][d]. */
  srcOf: Uint32Array[];
  newLens: Uint32Array;
  newTable: Uint32Array;
  /** Freed blocks, sequence by sequence, each sequence's in table order. */
  freeList: Uint32Array;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * The naive definition. Sequence b keeps its tokens t < contextLens[b] with keep = 1, in order: the
 * d-th survivor moves to logical position d, i.e. slot d mod blockSize of its block table entry
 * ⌊d / blockSize⌋ (the sequence's own first blocks). Its first ⌈newLen / blockSize⌉ entries stay,
 * the rest become NO_BLOCK, and the blocks it no longer needs go to the free list.
 */
export function planCompaction(s: KvCacheShape, idx: CompactionIndices): CompactionPlan {
  const blocks = maxBlocksPerSeq(s);
  const srcOf: Uint32Array[] = [];
  const newLens = new Uint32Array(s.batch);
  const newTable = new Uint32Array(s.batch * blocks).fill(NO_BLOCK);
  const freed: number[] = [];
  for (let b = 0; b < s.batch; b++) {
    const len = idx.contextLens[b]!;
    const survivors: number[] = [];
    for (let t = 0; t < len; t++) if (idx.keep[b * s.seqK + t]) survivors.push(t);
    srcOf.push(Uint32Array.from(survivors));
    newLens[b] = survivors.length;
    const kept = ceilDiv(survivors.length, s.blockSize);
    for (let j = 0; j < kept; j++) newTable[b * blocks + j] = idx.blockTable[b * blocks + j]!;
    for (let j = kept; j < ceilDiv(len, s.blockSize); j++) freed.push(idx.blockTable[b * blocks + j]!);
  }
  return { srcOf, newLens, newTable, freeList: Uint32Array.from(freed) };
}

/** Row (headDim elements) of the pool holding head h of the token at position t of sequence b. */
function poolRow(s: KvCacheShape, table: Uint32Array, b: number, h: number, t: number): number {
  const block = table[b * maxBlocksPerSeq(s) + Math.floor(t / s.blockSize)]!;
  return (block * s.kvHeads + h) * s.blockSize + (t % s.blockSize);
}

/**
 * Pool rows whose content compaction defines: every row of a block a sequence still holds, below
 * its new length, and every row of a block no sequence held (it must be left alone). Freed blocks
 * and the tail of each sequence's last block are free space: any content is right there.
 */
export function definedPoolRows(s: KvCacheShape, idx: CompactionIndices, plan: CompactionPlan): Uint8Array {
  const rows = numBlocks(s) * s.kvHeads * s.blockSize;
  const defined = new Uint8Array(rows).fill(1);
  const blocks = maxBlocksPerSeq(s);
  for (let b = 0; b < s.batch; b++) {
    const newLen = plan.newLens[b]!;
    for (let j = 0; j < ceilDiv(idx.contextLens[b]!, s.blockSize); j++) {
      const block = idx.blockTable[b * blocks + j]!;
      for (let h = 0; h < s.kvHeads; h++)
        for (let slot = 0; slot < s.blockSize; slot++) {
          if (j * s.blockSize + slot >= newLen) defined[(block * s.kvHeads + h) * s.blockSize + slot] = 0;
        }
    }
  }
  return defined;
}

/** The pool after compaction (rows outside definedPoolRows keep their old content here). */
export function compactPool(s: KvCacheShape, pool: HostTensor, idx: CompactionIndices, plan: CompactionPlan): HostTensor {
  const out = pool.slice();
  const d = s.headDim;
  for (let b = 0; b < s.batch; b++) {
    const src = plan.srcOf[b]!;
    for (let h = 0; h < s.kvHeads; h++)
      for (let dst = 0; dst < src.length; dst++) {
        const from = poolRow(s, idx.blockTable, b, h, src[dst]!) * d;
        const to = poolRow(s, idx.blockTable, b, h, dst) * d;
        // Reads the input, writes the copy: no order of moves can lose a survivor here.
        out.set(pool.subarray(from, from + d), to);
      }
  }
  return out;
}

/**
 * Expected tensors: the pools on the defined rows (all of them, or an even sample of them when
 * the copy would cost more than `budget` element reads), the table, lengths and free list whole.
 * Values are the exact stored values: compaction is a copy, so the tolerance is 0.
 */
export function referenceCompaction(s: KvCacheShape, pools: { kPool: HostTensor; vPool: HostTensor }, idx: CompactionIndices, budget: number): Expected {
  const plan = planCompaction(s, idx);
  const defined = definedPoolRows(s, idx, plan);
  let rows: number[] = [];
  for (let r = 0; r < defined.length; r++) if (defined[r]) rows.push(r);
  const perRow = 2 * s.headDim;
  if (rows.length * perRow > budget) {
    const want = Math.max(1, Math.floor(budget / perRow));
    const stride = rows.length / want;
    rows = Array.from({ length: want }, (_, i) => rows[Math.floor(i * stride)]!);
  }
  const expectRows = (pool: HostTensor) => {
    const after = compactPool(s, pool, idx, plan);
    const values = new Float64Array(rows.length * s.headDim);
    const read = after instanceof Uint16Array ? (i: number) => fromHalfBits(after[i]!) : (i: number) => after[i]!;
    rows.forEach((row, i) => {
      for (let c = 0; c < s.headDim; c++) values[i * s.headDim + c] = read(row * s.headDim + c);
    });
    return { values, rows, rowWidth: s.headDim };
  };
  const freeRows = Array.from(plan.freeList, (_, i) => i);
  return {
    kPool: expectRows(pools.kPool),
    vPool: expectRows(pools.vPool),
    newTable: { values: Float64Array.from(plan.newTable), rowWidth: maxBlocksPerSeq(s) },
    newLens: { values: Float64Array.from(plan.newLens), rowWidth: 1 },
    freeList: { values: Float64Array.from(plan.freeList), rows: freeRows, rowWidth: 1 },
    freeCount: { values: Float64Array.of(plan.freeList.length), rowWidth: 1 },
  };
}

export interface BlockAccounting {
  evictedTokens: number;
  /** Blocks whose every token was evicted: all that eviction alone gives back to the allocator. */
  blocksFreedBeforeCompaction: number;
  /** Blocks given back once survivors slide forward: ⌈len / bs⌉ − ⌈survivors / bs⌉ per sequence. */
  blocksFreedAfter: number;
  /** K and V bytes relocated (tokens whose slot changes, every kv head); each is read once and written once. */
  bytesMoved: number;
}

/** What an eviction is worth in memory, before and after compaction. */
export function blockAccounting(s: KvCacheShape, keep: Uint32Array, contextLens: Uint32Array = defaultContextLens(s)): BlockAccounting {
  let evictedTokens = 0;
  let blocksFreedBeforeCompaction = 0;
  let blocksFreedAfter = 0;
  let movedTokens = 0;
  for (let b = 0; b < s.batch; b++) {
    const len = contextLens[b]!;
    let survivors = 0;
    let blockSurvivors = 0;
    for (let t = 0; t < len; t++) {
      if (keep[b * s.seqK + t]) {
        if (survivors !== t) movedTokens++;
        survivors++;
        blockSurvivors++;
      }
      if ((t + 1) % s.blockSize === 0 || t === len - 1) {
        if (blockSurvivors === 0) blocksFreedBeforeCompaction++;
        blockSurvivors = 0;
      }
    }
    evictedTokens += len - survivors;
    blocksFreedAfter += ceilDiv(len, s.blockSize) - ceilDiv(survivors, s.blockSize);
  }
  return { evictedTokens, blocksFreedBeforeCompaction, blocksFreedAfter, bytesMoved: movedTokens * s.kvHeads * s.headDim * elementBytes(s) * 2 };
}
