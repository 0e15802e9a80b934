import { createRng, fillUniform } from '../../rng.js';
import type { TopkShape } from './shape.js';

/**
 * Seeded inputs. The indexer's inputs are multiples of 1/4 in [−1, 1] (DeepSeek runs the indexer
 * in FP8, so coarse values are realistic): every product and partial sum is then exact in f32
 * whatever the summation order (|I| ≤ indexHeads·indexDim ≤ 65536 in steps of 1/64, far inside
 * f32's 24 bits), so the GPU's scores equal the float64 reference's exactly and the selected set
 * can be compared exactly, ties included. Random f32 inputs would put near-ties within rounding of
 * each other and make the set differ by rounding alone.
 */
function quarterSteps(out: Float32Array, rng: () => number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (Math.floor(rng() * 9) - 4) / 4;
  return out;
}

export function indexerInputs(s: TopkShape, rng: () => number): { indexQ: Float32Array; indexK: Float32Array; indexW: Float32Array } {
  const n = s.batch * s.seqK;
  const indexQ = quarterSteps(new Float32Array(n * s.indexHeads * s.indexDim), rng);
  const indexK = new Float32Array(n * s.indexDim);
  if (s.ties) {
    // Three distinct key rows only: each query's scores take at most three values, so almost
    // every selection is decided by the lower-index rule.
    const prototypes = [0, 1, 2].map(() => quarterSteps(new Float32Array(s.indexDim), rng));
    for (let j = 0; j < n; j++) indexK.set(prototypes[Math.floor(rng() * 3)]!, j * s.indexDim);
  } else {
    quarterSteps(indexK, rng);
  }
  const indexW = quarterSteps(new Float32Array(n * s.indexHeads), rng);
  return { indexQ, indexK, indexW };
}

export function attentionInputs(s: TopkShape, rng: () => number): { q: Float32Array; k: Float32Array; v: Float32Array } {
  const qSize = s.batch * s.heads * s.seqK * s.headDim;
  const kvSize = s.batch * s.kvHeads * s.seqK * s.headDim;
  return {
    q: fillUniform(new Float32Array(qSize), rng),
    k: fillUniform(new Float32Array(kvSize), rng),
    v: fillUniform(new Float32Array(kvSize), rng),
  };
}

/** The whole pipeline's inputs: attention tensors, then the indexer's. */
export function pipelineInputs(s: TopkShape, seed: number): Record<string, Float32Array> {
  const rng = createRng(seed);
  return { ...attentionInputs(s, rng), ...indexerInputs(s, rng) };
}

/**
 * Index scores of the last queryRows queries, [batch, queryRows, N]: uniform f32 (distinct almost
 * surely), or with `ties` small integers (seven values, so ties everywhere). The entries past each
 * query's causal limit are random too: a selection kernel must ignore them.
 */
export function selectInputs(s: TopkShape, seed: number): { scores: Float32Array } {
  const rng = createRng(seed);
  const scores = new Float32Array(s.batch * s.queryRows * s.seqK);
  if (s.ties) for (let i = 0; i < scores.length; i++) scores[i] = Math.floor(rng() * 7) - 3;
  else fillUniform(scores, rng);
  return { scores };
}

/**
 * Selected keys for every query, [batch, N, topK]: a random causal subset (Floyd's sampling) of
 * topK keys sorted ascending, or every key 0..i and −1 after when i + 1 ≤ topK.
 */
export function attendInputs(s: TopkShape, seed: number): Record<string, Float32Array | Int32Array> {
  const rng = createRng(seed);
  const tensors = attentionInputs(s, rng);
  const indices = new Int32Array(s.batch * s.seqK * s.topK).fill(-1);
  for (let b = 0; b < s.batch; b++)
    for (let i = 0; i < s.seqK; i++) {
      const row = (b * s.seqK + i) * s.topK;
      if (i + 1 <= s.topK) {
        for (let j = 0; j <= i; j++) indices[row + j] = j;
        continue;
      }
      const chosen = new Set<number>();
      for (let m = i + 1 - s.topK; m <= i; m++) {
        const t = Math.floor(rng() * (m + 1));
        chosen.add(chosen.has(t) ? m : t);
      }
      indices.set(
        [...chosen].sort((a, c) => a - c),
        row,
      );
    }
  return { ...tensors, indices };
}
