import { kvHeadOf } from '../dense/shape.js';
import { type WindowShape, visibleKeyRanges } from './shape.js';

export interface WindowInputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

/**
 * The definition, in float64: for each query row, softmax(scale·q·kⱼ) over the keys it sees (the
 * sinks, then its window; see WindowShape) times vⱼ. Returns O in Q's layout, or with `rows` only
 * those flat rows (b·heads·seqQ + h·seqQ + i), in that order. A row that sees no key is 0.
 */
export function referenceWindowAttention(s: WindowShape, inputs: WindowInputs, rows?: readonly number[]): Float64Array {
  const { q, k, v } = inputs;
  const d = s.headDim;
  const totalRows = s.batch * s.heads * s.seqQ;
  const rowList = rows ?? Array.from({ length: totalRows }, (_, r) => r);
  const out = new Float64Array(rowList.length * d);
  const keys: number[] = [];
  const scores: number[] = [];
  for (let r = 0; r < rowList.length; r++) {
    const row = rowList[r]!;
    if (!Number.isInteger(row) || row < 0 || row >= totalRows) throw new RangeError(`reference row ${row} is outside 0..${totalRows - 1}`);
    const i = row % s.seqQ;
    const bh = (row - i) / s.seqQ;
    const h = bh % s.heads;
    const b = (bh - h) / s.heads;
    const kvBase = (b * s.kvHeads + kvHeadOf(s, h)) * s.seqK * d;

    const seen = visibleKeyRanges(s, i);
    keys.length = 0;
    for (let j = 0; j < seen.sinkEnd; j++) keys.push(j);
    for (let j = seen.windowStart; j < seen.end; j++) keys.push(j);
    if (keys.length === 0) continue;

    scores.length = 0;
    let max = -Infinity;
    for (const j of keys) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[row * d + c]! * k[kvBase + j * d + c]!;
      const score = dot * s.scale;
      scores.push(score);
      max = Math.max(max, score);
    }
    let sum = 0;
    const acc = new Float64Array(d);
    keys.forEach((j, n) => {
      const p = Math.exp(scores[n]! - max);
      sum += p;
      for (let c = 0; c < d; c++) acc[c]! += p * v[kvBase + j * d + c]!;
    });
    for (let c = 0; c < d; c++) out[r * d + c] = acc[c]! / sum;
  }
  return out;
}
