import { cacheReader, referenceDecodeRows, sampleReferenceRows } from '../decode/context.js';
import type { HostTensors } from '../types.js';
import { type MlaShape, rowWidth } from './shape.js';

/**
 * MLA absorbed decode in float64, the definition the kernels are checked against: for output row
 * (b, h, i), softmax over tokens j < len_b − Nq + i + 1 of scale·q·[c_kv_j, k_pe_j] (the whole cache
 * row), times c_kv_j (its first kvLora elements). Only the given rows (flat (b·heads + h)·seqQ + i)
 * are computed, in that order; f16 caches are read as the GPU reads them (decoded halves).
 */
export function referenceMla(s: MlaShape, inputs: HostTensors, rows: readonly number[]): Float64Array {
  const q = inputs.q as Float32Array;
  const kv = cacheReader(inputs.kv as Float32Array | Uint16Array);
  const d = rowWidth(s);
  const c = s.kvLora;
  return referenceDecodeRows(
    s,
    inputs.contextLens as Uint32Array,
    rows,
    c,
    (row, b, _h, j) => {
      const at = (b * s.seqK + j) * d;
      let dot = 0;
      for (let x = 0; x < d; x++) dot += q[row * d + x]! * kv(at + x);
      return dot;
    },
    (acc, p, b, _h, j) => {
      const at = (b * s.seqK + j) * d;
      for (let x = 0; x < c; x++) acc[x]! += p * kv(at + x);
    },
  );
}

/** Multiply-adds of one (sequence, head) pair's rows: scores over the whole row, P·V over the latent. */
function pairCost(s: MlaShape, len: number): number {
  return s.seqQ * len * (rowWidth(s) + s.kvLora);
}

/** Rows to check within `budget` multiply-adds (sampleReferenceRows), at pairCost per (sequence, head) pair. */
export function mlaReferenceRows(s: MlaShape, lens: Uint32Array, budget: number): number[] {
  return sampleReferenceRows(s, lens, budget, (length) => pairCost(s, length));
}
