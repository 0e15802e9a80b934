import type { HostTensors } from '../types.js';
import { cacheReader, referenceDecodeRows, sampleReferenceRows } from './context.js';
import type { DecodeShape } from './shape.js';

/** Element offset of key `j` of sequence `b`, kv head `kvh`, in K or V, through the block table when paged. */
export function kvRowOffset(s: DecodeShape, table: Uint32Array | undefined, b: number, kvh: number, j: number): number {
  if (s.layout === 'contiguous') return ((b * s.kvHeads + kvh) * s.seqK + j) * s.headDim;
  const slots = Math.ceil(s.seqK / s.blockSize);
  const block = table![b * slots + Math.floor(j / s.blockSize)]!;
  return ((block * s.kvHeads + kvh) * s.blockSize + (j % s.blockSize)) * s.headDim;
}

/**
 * Decode attention in float64, the definition the kernels are checked against: for output row
 * (b, h, i), softmax over keys j < len_b − Nq + i + 1 of scale·q·k_j, times v_j, where k_j and v_j
 * are read through the block table of sequence b (paged) or at position j (contiguous). Only the
 * given rows (flat (b·heads + h)·seqQ + i) are computed, in that order.
 */
export function referenceDecode(s: DecodeShape, inputs: HostTensors, rows: readonly number[]): Float64Array {
  const q = inputs.q as Float32Array;
  const k = cacheReader(inputs.k as Float32Array | Uint16Array);
  const v = cacheReader(inputs.v as Float32Array | Uint16Array);
  const table = inputs.blockTable as Uint32Array | undefined;
  const d = s.headDim;
  const group = s.heads / s.kvHeads;
  return referenceDecodeRows(
    s,
    inputs.contextLens as Uint32Array,
    rows,
    d,
    (row, b, h, j) => {
      const kOff = kvRowOffset(s, table, b, Math.floor(h / group), j);
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[row * d + c]! * k(kOff + c);
      return dot;
    },
    (acc, p, b, h, j) => {
      const vOff = kvRowOffset(s, table, b, Math.floor(h / group), j);
      for (let c = 0; c < d; c++) acc[c]! += p * v(vOff + c);
    },
  );
}

/** Rows to check within `budget` multiply-adds (sampleReferenceRows): a pair's rows cost 2·d·Nq per key. */
export function decodeReferenceRows(s: DecodeShape, lens: Uint32Array, budget: number): number[] {
  return sampleReferenceRows(s, lens, budget, (length) => 2 * s.headDim * s.seqQ * length);
}
