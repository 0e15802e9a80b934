import { fromHalfBits } from '../half.js';
import type { HostTensors } from '../types.js';
import { type DecodeShape, visibleKeys } from './shape.js';

/** Element offset of key `j` of sequence `b`, kv head `kvh`, in K or V, through the block table when paged. */
export function kvRowOffset(s: DecodeShape, table: Uint32Array | undefined, b: number, kvh: number, j: number): number {
  if (s.layout === 'contiguous') return ((b * s.kvHeads + kvh) * s.seqK + j) * s.headDim;
  const slots = Math.ceil(s.seqK / s.blockSize);
  const block = table![b * slots + Math.floor(j / s.blockSize)]!;
  return ((block * s.kvHeads + kvh) * s.blockSize + (j % s.blockSize)) * s.headDim;
}

/** K or V as numbers: f32 as they are, f16 decoded from their bits (the values the GPU reads). */
function reader(data: Float32Array | Uint16Array): (i: number) => number {
  return data instanceof Uint16Array ? (i) => fromHalfBits(data[i]!) : (i) => data[i]!;
}

/**
 * Decode attention in float64, the definition the kernels are checked against: for output row
 * (b, h, i), softmax over keys j < len_b − Nq + i + 1 of scale·q·k_j, times v_j, where k_j and v_j
 * are read through the block table of sequence b (paged) or at position j (contiguous). Only the
 * given rows (flat (b·heads + h)·seqQ + i) are computed, in that order.
 */
export function referenceDecode(s: DecodeShape, inputs: HostTensors, rows: readonly number[]): Float64Array {
  const q = inputs.q as Float32Array;
  const k = reader(inputs.k as Float32Array | Uint16Array);
  const v = reader(inputs.v as Float32Array | Uint16Array);
  const lens = inputs.contextLens as Uint32Array;
  const table = inputs.blockTable as Uint32Array | undefined;
  const d = s.headDim;
  const group = s.heads / s.kvHeads;
  const out = new Float64Array(rows.length * d);
  const acc = new Float64Array(d);
  let scores = new Float64Array(0);
  rows.forEach((row, r) => {
    const i = row % s.seqQ;
    const h = Math.floor(row / s.seqQ) % s.heads;
    const b = Math.floor(row / (s.seqQ * s.heads));
    const kvh = Math.floor(h / group);
    const n = visibleKeys(lens[b]!, s.seqQ, i);
    if (scores.length < n) scores = new Float64Array(n);
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      const kOff = kvRowOffset(s, table, b, kvh, j);
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[row * d + c]! * k(kOff + c);
      scores[j] = dot * s.scale;
      max = Math.max(max, scores[j]!);
    }
    acc.fill(0);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const p = Math.exp(scores[j]! - max);
      sum += p;
      const vOff = kvRowOffset(s, table, b, kvh, j);
      for (let c = 0; c < d; c++) acc[c]! += p * v(vOff + c);
    }
    for (let c = 0; c < d; c++) out[r * d + c] = acc[c]! / sum;
  });
  return out;
}

/**
 * Rows to check within `budget` multiply-adds: every row when it fits, otherwise every row of an
 * evenly strided, fixed set of (batch, head) pairs, always including the first and the last.
 */
export function decodeReferenceRows(s: DecodeShape, lens: Uint32Array, budget: number): number[] {
  const pairs = s.batch * s.heads;
  const pairCost = (p: number) => 2 * s.headDim * s.seqQ * lens[Math.floor(p / s.heads)]!;
  let total = 0;
  for (let p = 0; p < pairs; p++) total += pairCost(p);
  let chosen: number[];
  if (total <= budget) chosen = Array.from({ length: pairs }, (_, p) => p);
  else {
    const perPair = Math.max(1, 2 * s.headDim * s.seqQ * s.seqK);
    const count = Math.min(pairs, Math.max(2, Math.floor(budget / perPair)));
    const set = new Set<number>([0, pairs - 1]);
    for (let n = 0; set.size < count && n < count; n++) set.add(Math.floor(((n + 0.5) * pairs) / count));
    chosen = [...set].sort((a, b) => a - b);
  }
  return chosen.flatMap((p) => Array.from({ length: s.seqQ }, (_, i) => p * s.seqQ + i));
}
