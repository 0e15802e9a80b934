import type { RawShape } from '../types.js';

/**
 * Shapes that try to break a compaction kernel: lengths 1, 7, 100, 129 and one past the scan's
 * 1024-token chunk; every block size; every policy; nothing and everything evicted; ragged batches
 * of 3; kv heads 1 and 2; f32 and f16 pools; rows of 16, 8 and 4-byte multiples (the vec4, vec2
 * and scalar word paths). `fixed` fields override every shape's.
 */
const SHAPES: RawShape[] = [
  { seqK: 1, batch: 1, blockSize: 8, policy: 'random', evict: 50, kvHeads: 1, dtype: 'f32', headDim: 4 },
  { seqK: 7, batch: 1, blockSize: 16, policy: 'window', sinks: 2, window: 3, kvHeads: 2, dtype: 'f32', headDim: 8 },
  { seqK: 100, batch: 3, blockSize: 8, policy: 'random', evict: 50, kvHeads: 2, dtype: 'f32', headDim: 4 },
  { seqK: 129, batch: 3, blockSize: 16, policy: 'score', evict: 50, kvHeads: 1, dtype: 'f32', headDim: 6 },
  { seqK: 129, batch: 1, blockSize: 32, policy: 'random', evict: 0, kvHeads: 2, dtype: 'f32', headDim: 8 },
  { seqK: 100, batch: 3, blockSize: 64, policy: 'random', evict: 100, kvHeads: 1, dtype: 'f32', headDim: 4 },
  { seqK: 129, batch: 3, blockSize: 8, policy: 'window', sinks: 4, window: 16, kvHeads: 2, dtype: 'f16', headDim: 6 },
  { seqK: 100, batch: 1, blockSize: 16, policy: 'random', evict: 70, kvHeads: 2, dtype: 'f16', headDim: 8 },
  { seqK: 129, batch: 3, blockSize: 32, policy: 'score', evict: 30, kvHeads: 2, dtype: 'f16', headDim: 4 },
  { seqK: 7, batch: 3, blockSize: 64, policy: 'score', evict: 100, kvHeads: 1, dtype: 'f32', headDim: 5 },
  { seqK: 1, batch: 3, blockSize: 8, policy: 'window', sinks: 0, window: 0, kvHeads: 1, dtype: 'f32', headDim: 4 },
  { seqK: 129, batch: 2, blockSize: 8, policy: 'random', evict: 50, kvHeads: 2, dtype: 'f32', headDim: 5 },
  { seqK: 2500, batch: 2, blockSize: 16, policy: 'random', evict: 50, kvHeads: 1, dtype: 'f32', headDim: 4 },
];

export function kvCacheConformanceShapes(fixed: RawShape): RawShape[] {
  // An odd fixed head dim cannot be an f16 cache (rows are whole 32-bit words): those shapes go f32.
  const oddDim = typeof fixed.headDim === 'number' && fixed.headDim % 2 === 1;
  return SHAPES.map((shape) => ({ ...shape, ...(oddDim && fixed.dtype === undefined ? { dtype: 'f32' } : {}), ...fixed }));
}
