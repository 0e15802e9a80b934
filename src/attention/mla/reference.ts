import { fromHalfBits } from '../half.js';
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
  const data = inputs.kv as Float32Array | Uint16Array;
  const kv = data instanceof Uint16Array ? (i: number) => fromHalfBits(data[i]!) : (i: number) => data[i]!;
  const lens = inputs.contextLens as Uint32Array;
  const d = rowWidth(s);
  const c = s.kvLora;
  const out = new Float64Array(rows.length * c);
  const acc = new Float64Array(c);
  let scores = new Float64Array(0);
  rows.forEach((row, r) => {
    const i = row % s.seqQ;
    const b = Math.floor(row / (s.seqQ * s.heads));
    const n = lens[b]! - s.seqQ + i + 1;
    if (scores.length < n) scores = new Float64Array(n);
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      const at = (b * s.seqK + j) * d;
      let dot = 0;
      for (let x = 0; x < d; x++) dot += q[row * d + x]! * kv(at + x);
      scores[j] = dot * s.scale;
      max = Math.max(max, scores[j]!);
    }
    acc.fill(0);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const p = Math.exp(scores[j]! - max);
      sum += p;
      const at = (b * s.seqK + j) * d;
      for (let x = 0; x < c; x++) acc[x]! += p * kv(at + x);
    }
    for (let x = 0; x < c; x++) out[r * c + x] = acc[x]! / sum;
  });
  return out;
}

/** Multiply-adds of one (sequence, head) pair's rows: scores over the whole row, P·V over the latent. */
function pairCost(s: MlaShape, len: number): number {
  return s.seqQ * len * (rowWidth(s) + s.kvLora);
}

/**
 * Rows to check within `budget` multiply-adds: every row when it fits, otherwise every query row of
 * an evenly strided, fixed set of (batch, head) pairs, always including the first and the last.
 */
export function mlaReferenceRows(s: MlaShape, lens: Uint32Array, budget: number): number[] {
  const pairs = s.batch * s.heads;
  let total = 0;
  for (let p = 0; p < pairs; p++) total += pairCost(s, lens[Math.floor(p / s.heads)]!);
  let chosen: number[];
  if (total <= budget) chosen = Array.from({ length: pairs }, (_, p) => p);
  else {
    const count = Math.min(pairs, Math.max(2, Math.floor(budget / Math.max(1, pairCost(s, s.seqK)))));
    const set = new Set<number>([0, pairs - 1]);
    for (let n = 0; set.size < count && n < count; n++) set.add(Math.floor(((n + 0.5) * pairs) / count));
    chosen = [...set].sort((a, b) => a - b);
  }
  return chosen.flatMap((p) => Array.from({ length: s.seqQ }, (_, i) => p * s.seqQ + i));
}
