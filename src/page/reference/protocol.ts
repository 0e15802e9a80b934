import type { AttentionShape } from '../../attention/dense/shape.js';

/** A reference request: the inputs (copies, transferred) and the rows to compute (all when absent). */
export interface ReferenceRequest {
  id: number;
  shape: AttentionShape;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  rows: number[] | undefined;
}

export type ReferenceResponse = { id: number; values: Float64Array; ms: number } | { id: number; error: string };
