/*
 * The float64 definition of DeepSeek Sparse Attention, one function per stage, written for
 * reading: the kernels must agree with these.
 *
 *   indexer    I(i, j) = Σ_h w(i, h) · ReLU(qᴵ(i, h) · kᴵ(j))        for j ≤ i (causal)
 *   selection  the topK keys j ≤ i with the largest I(i, j), ties to the lower j; every j ≤ i when
 *              i + 1 ≤ topK. Written sorted ascending, −1 in the unused slots.
 *   attention  o(h, i) = Σ_{j ∈ sel(i)} softmax_j(scale · q(h, i) · k(g(h), j)) · v(g(h), j), the
 *              same selection for every head of the query (g(h) is the head's key/value head).
 */
import type { TopkShape } from './shape.js';

export interface IndexerTensors {
  /** [batch, N, indexHeads, indexDim] */
  indexQ: Float32Array;
  /** [batch, N, indexDim] */
  indexK: Float32Array;
  /** [batch, N, indexHeads] */
  indexW: Float32Array;
}

export interface AttentionTensors {
  /** [batch, heads, N, headDim] */
  q: Float32Array;
  /** [batch, kvHeads, N, headDim] */
  k: Float32Array;
  v: Float32Array;
}

/** The index scores of query i against keys 0..i. */
export function indexScores(s: TopkShape, t: IndexerTensors, b: number, i: number): Float64Array {
  const { seqK: n, indexHeads: hi, indexDim: di } = s;
  const out = new Float64Array(i + 1);
  for (let j = 0; j <= i; j++) {
    const kBase = (b * n + j) * di;
    let score = 0;
    for (let h = 0; h < hi; h++) {
      const qBase = ((b * n + i) * hi + h) * di;
      let dot = 0;
      for (let c = 0; c < di; c++) dot += t.indexQ[qBase + c]! * t.indexK[kBase + c]!;
      score += t.indexW[(b * n + i) * hi + h]! * Math.max(dot, 0);
    }
    out[j] = score;
  }
  return out;
}

/**
 * The selected keys of one query from its candidates' scores (scores[j] for keys j = 0..count−1):
 * the topK largest, ties to the lower key index, as a sorted list padded with −1 to topK slots.
 */
export function selectTopK(scores: ArrayLike<number>, count: number, topK: number): Int32Array {
  const out = new Int32Array(topK).fill(-1);
  const keys = Array.from({ length: count }, (_, j) => j);
  if (count > topK) {
    keys.sort((a, b) => scores[b]! - scores[a]! || a - b);
    keys.length = topK;
    keys.sort((a, b) => a - b);
  }
  out.set(keys);
  return out;
}

/**
 * Attention of query i, head h, over its selected keys (−1 slots skipped); zeros when none is
 * selected (FlashMLA's convention for an all-invalid row).
 */
export function sparseAttentionRow(s: TopkShape, t: AttentionTensors, selected: ArrayLike<number>, b: number, h: number, i: number): Float64Array {
  const { seqK: n, headDim: d } = s;
  const g = Math.floor(h / (s.heads / s.kvHeads));
  const qBase = ((b * s.heads + h) * n + i) * d;
  const keys = Array.from(selected).filter((j) => j >= 0);
  const logits = keys.map((j) => {
    const kBase = ((b * s.kvHeads + g) * n + j) * d;
    let dot = 0;
    for (let c = 0; c < d; c++) dot += t.q[qBase + c]! * t.k[kBase + c]!;
    return dot * s.scale;
  });
  const out = new Float64Array(d);
  if (keys.length === 0) return out;
  const max = Math.max(...logits);
  const weights = logits.map((x) => Math.exp(x - max));
  const sum = weights.reduce((a, w) => a + w, 0);
  keys.forEach((j, m) => {
    const vBase = ((b * s.kvHeads + g) * n + j) * d;
    const p = weights[m]! / sum;
    for (let c = 0; c < d; c++) out[c]! += p * t.v[vBase + c]!;
  });
  return out;
}

/**
 * Rows to check when checking all `total` would cost more than `budget` multiply-adds at
 * `costPerRow` each: the first and last rows and evenly spread ones, the same on every run.
 * Undefined: check every row.
 */
export function sampleRows(total: number, costPerRow: number, budget: number): number[] | undefined {
  if (total * costPerRow <= budget) return undefined;
  const count = Math.max(2, Math.min(total, Math.floor(budget / Math.max(1, costPerRow))));
  const rows = new Set<number>([0, total - 1]);
  const stride = total / count;
  for (let m = 0; rows.size < count && m < count; m++) rows.add(Math.min(total - 1, Math.floor(stride * (m + 0.5))));
  return [...rows].sort((a, b) => a - b);
}
