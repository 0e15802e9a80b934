import type { AttentionShape } from './shape.js';

/** (seqQ, seqK) pairs: length 1, odd lengths, lengths past a tile, decode and Nq ≠ Nk. */
export const CONFORMANCE_LENGTHS: [number, number][] = [
  [1, 1],
  [7, 7],
  [100, 100],
  [129, 129],
  [1, 129],
  [37, 100],
  [100, 37],
];

/** (heads, kvHeads): multi-head, grouped-query, multi-query. */
export const CONFORMANCE_HEADS: [number, number][] = [
  [2, 2],
  [4, 2],
  [3, 1],
];

/**
 * Shapes chosen to break tiled kernels: length 1, odd lengths, lengths past a tile, decode and
 * Nq > Nk (rows that see no key); multi-head, grouped-query and multi-query; causal and not.
 */
export function conformanceShapes(headDim: number): AttentionShape[] {
  const shapes: AttentionShape[] = [];
  let n = 0;
  for (const [seqQ, seqK] of CONFORMANCE_LENGTHS)
    for (const causal of [false, true]) {
      // Rotate head layouts and batch sizes over the lengths rather than cross all of them.
      const [heads, kvHeads] = CONFORMANCE_HEADS[n % CONFORMANCE_HEADS.length]!;
      shapes.push({ batch: 1 + (n % 2), heads, kvHeads, seqQ, seqK, headDim, causal });
      n++;
    }
  return shapes;
}
