import { createRng } from '../../rng.js';
import { toHalfBits } from '../half.js';
import type { HostTensor, Problem, TensorSpec } from '../types.js';
import { kvCacheConformanceShapes } from './conformance.js';
import { keepMask, keyNormScores, permutation } from './policy.js';
import { referenceCompaction } from './reference.js';
import {
  KVCACHE_FIELDS,
  type KvCacheShape,
  defaultContextLens,
  elementBytes,
  kvCacheLabel,
  maxBlocksPerSeq,
  numBlocks,
  poolElements,
  resolveKvCacheShape,
} from './shape.js';
import { validateIndices, validateSizes } from './validate.js';

/**
 * Tokens whose slot the seeded inputs' eviction is expected to change, for the byte models (which
 * see the shape, not the mask): every survivor after the first eviction. Random and score eviction
 * start evicting almost at once; the window policy moves only its recent window.
 */
export function expectedMovedTokens(s: KvCacheShape): number {
  let moved = 0;
  for (const len of defaultContextLens(s)) {
    if (s.policy === 'window') moved += len > s.sinks + s.window ? Math.min(s.window, len) : 0;
    else if (s.evict > 0 && s.evict < 100) moved += Math.round((len * (100 - s.evict)) / 100);
  }
  return moved;
}

/** Survivors of the seeded inputs' eviction, for the byte models. */
export function expectedSurvivors(s: KvCacheShape): number {
  let kept = 0;
  for (const len of defaultContextLens(s)) {
    kept += s.policy === 'window' ? Math.min(len, s.sinks + s.window) : len - Math.round((len * s.evict) / 100);
  }
  return kept;
}

/** Tokens the seeded inputs hold, all sequences. */
export function liveTokens(s: KvCacheShape): number {
  return defaultContextLens(s).reduce((a, b) => a + b, 0);
}

/** Bytes of the K and V rows of `tokens` tokens (every kv head). */
export function kvBytes(s: KvCacheShape, tokens: number): number {
  return 2 * tokens * s.kvHeads * s.headDim * elementBytes(s);
}

/**
 * Eviction and compaction of a paged KV cache. K and V live in pools of blocks
 * [numBlocks, kvHeads, blockSize, headDim]; a sequence's tokens are in the blocks its row of the
 * block table names, in order. An eviction policy marks the tokens to keep; compaction slides the
 * survivors forward in token order into the sequence's first blocks, in place, so that whole
 * blocks empty and go back to a free list. Evicting scattered tokens alone frees almost no block.
 */
export const kvCacheProblem: Problem<KvCacheShape> = {
  family: 'kvcache',
  title: 'KV-cache eviction and compaction',
  description:
    'Evict tokens from a paged KV cache (window, score or random policy) and compact the survivors in place so whole blocks return to the free list.',
  fields: KVCACHE_FIELDS,
  axis: 'seqK',
  resolve: resolveKvCacheShape,
  label: kvCacheLabel,

  tensors(s) {
    const pool = [numBlocks(s), s.kvHeads, s.blockSize, s.headDim];
    const poolLayout = 'numBlocks·kvHeads·blockSize·headDim';
    const blocks = maxBlocksPerSeq(s);
    const specs: TensorSpec[] = [
      { name: 'kPool', role: 'state', type: s.dtype, dims: pool, layout: poolLayout },
      { name: 'vPool', role: 'state', type: s.dtype, dims: pool, layout: poolLayout },
      { name: 'blockTable', role: 'index', type: 'u32', dims: [s.batch, blocks], layout: 'batch·maxBlocksPerSeq' },
      { name: 'contextLens', role: 'index', type: 'u32', dims: [s.batch], layout: 'batch' },
    ];
    if (s.policy === 'score') {
      // The GPU scores the tokens and selects the survivors itself: the mask is an output, checked
      // against the CPU's choice, and the scores come back for inspection (not compared: see
      // policy.ts keyNormScores on where a device's f32 may differ from the CPU's).
      specs.push(
        { name: 'keep', role: 'output', type: 'u32', dims: [s.batch, s.seqK], layout: 'batch·seqK' },
        { name: 'scores', role: 'output', type: 'f32', dims: [s.batch, s.seqK], layout: 'batch·seqK' },
      );
    } else {
      specs.push({ name: 'keep', role: 'index', type: 'u32', dims: [s.batch, s.seqK], layout: 'batch·seqK' });
    }
    specs.push(
      { name: 'newTable', role: 'output', type: 'u32', dims: [s.batch, blocks], layout: 'batch·maxBlocksPerSeq' },
      { name: 'newLens', role: 'output', type: 'u32', dims: [s.batch], layout: 'batch' },
      { name: 'freeList', role: 'output', type: 'u32', dims: [numBlocks(s)], layout: 'numBlocks (first freeCount entries)' },
      { name: 'freeCount', role: 'output', type: 'u32', dims: [1], layout: '1' },
    );
    return specs;
  },

  inputs(s, seed) {
    const rng = createRng(seed);
    const fill = (): HostTensor => {
      const n = poolElements(s);
      if (s.dtype === 'f16') {
        const out = new Uint16Array(n);
        for (let i = 0; i < n; i++) out[i] = toHalfBits(rng() * 2 - 1);
        return out;
      }
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = rng() * 2 - 1;
      return out;
    };
    const kPool = fill();
    const vPool = fill();
    const blockTable = permutation(numBlocks(s), rng);
    const contextLens = defaultContextLens(s);
    // Under the score policy keep and scores are the CPU's answer for views and accounting on the
    // host (the block map, blockAccounting); the GPU computes its own and never reads these.
    const scores = s.policy === 'score' ? keyNormScores(s, kPool, blockTable, contextLens) : undefined;
    const keep = keepMask(s, contextLens, rng, scores);
    return { kPool, vPool, blockTable, contextLens, keep, ...(scores ? { scores } : {}) };
  },

  validate(s, inputs) {
    validateSizes(kvCacheProblem.tensors(s), inputs);
    const keep = s.policy === 'score' ? new Uint32Array(0) : (inputs.keep as Uint32Array);
    validateIndices(s, inputs.blockTable as Uint32Array, inputs.contextLens as Uint32Array, keep);
  },

  reference(s, inputs, budget) {
    const blockTable = inputs.blockTable as Uint32Array;
    const contextLens = inputs.contextLens as Uint32Array;
    if (s.policy !== 'score')
      return referenceCompaction(s, { kPool: inputs.kPool!, vPool: inputs.vPool! }, { blockTable, contextLens, keep: inputs.keep as Uint32Array }, budget);
    // The score policy's survivors are recomputed from the pool (whatever keep or scores the caller
    // passed): the GPU's keep mask must be exactly this one, and the compaction follows from it.
    const scores = keyNormScores(s, inputs.kPool!, blockTable, contextLens);
    const keep = keepMask(s, contextLens, () => 0, scores);
    const expected = referenceCompaction(s, { kPool: inputs.kPool!, vPool: inputs.vPool! }, { blockTable, contextLens, keep }, budget);
    return { ...expected, keep: { values: Float64Array.from(keep), rowWidth: s.seqK } };
  },

  flops() {
    // A copy: no arithmetic on the cache's values.
    return 0;
  },

  minimalBytes(s) {
    // The keep mask, lengths and table read once, the new table and free list written once, and
    // each relocated survivor read once and written once. Survivors already in place cost nothing.
    // The score policy reads every live key once instead of a mask, and writes the mask.
    const indices = 4 * (s.batch * s.seqK + 2 * s.batch * maxBlocksPerSeq(s) + 2 * s.batch + numBlocks(s));
    return indices + 2 * kvBytes(s, expectedMovedTokens(s)) + (s.policy === 'score' ? kvBytes(s, liveTokens(s)) / 2 : 0);
  },

  conformanceShapes(fixed) {
    return kvCacheConformanceShapes(fixed).map((raw) => resolveKvCacheShape(raw));
  },
};
