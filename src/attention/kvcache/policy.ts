import { fromHalfBits } from '../half.js';
import type { HostTensor } from '../types.js';
import { type KvCacheShape, maxBlocksPerSeq } from './shape.js';

/**
 * Keep masks [batch, seqK] (1 = the token survives) for the three eviction policies. Entries past
 * a sequence's length are 0. Everything here is deterministic in its arguments.
 */
export function keepMask(s: KvCacheShape, contextLens: Uint32Array, rng: () => number, scores?: Float32Array): Uint32Array {
  const keep = new Uint32Array(s.batch * s.seqK);
  for (let b = 0; b < s.batch; b++) {
    const len = contextLens[b]!;
    const row = b * s.seqK;
    switch (s.policy) {
      case 'window':
        // StreamingLLM: attention sinks at the start plus the most recent tokens.
        for (let t = 0; t < len; t++) keep[row + t] = t < s.sinks || t >= len - s.window ? 1 : 0;
        break;
      case 'random': {
        // Independent per token: survivors land in every block, the case that frees almost nothing.
        const p = s.evict / 100;
        for (let t = 0; t < len; t++) keep[row + t] = rng() < p ? 0 : 1;
        break;
      }
      case 'score': {
        const kept = len - Math.round((len * s.evict) / 100);
        const order = Array.from({ length: len }, (_, t) => t);
        // Highest score first; ties keep the earlier token, so the mask is a function of the scores.
        order.sort((a, c) => scores![row + c]! - scores![row + a]! || a - c);
        for (let i = 0; i < kept; i++) keep[row + order[i]!] = 1;
        break;
      }
    }
  }
  return keep;
}

/**
 * Per-token importance for the score policy: the L2 norm of the token's key, averaged over kv heads
 * (a cheap proxy for accumulated attention that needs no queries). [batch, seqK], 0 past a length.
 */
export function keyNormScores(s: KvCacheShape, kPool: HostTensor, blockTable: Uint32Array, contextLens: Uint32Array): Float32Array {
  const scores = new Float32Array(s.batch * s.seqK);
  const read = kPool instanceof Uint16Array ? (i: number) => fromHalfBits(kPool[i]!) : (i: number) => kPool[i]!;
  const blocks = maxBlocksPerSeq(s);
  for (let b = 0; b < s.batch; b++) {
    for (let t = 0; t < contextLens[b]!; t++) {
      const block = blockTable[b * blocks + Math.floor(t / s.blockSize)]!;
      let total = 0;
      for (let h = 0; h < s.kvHeads; h++) {
        const base = ((block * s.kvHeads + h) * s.blockSize + (t % s.blockSize)) * s.headDim;
        let sq = 0;
        for (let c = 0; c < s.headDim; c++) sq += read(base + c) ** 2;
        total += Math.sqrt(sq);
      }
      scores[b * s.seqK + t] = total / s.kvHeads;
    }
  }
  return scores;
}

/** A seeded permutation of 0..n-1 (Fisher–Yates): the scattered block table of a long-running server. */
export function permutation(n: number, rng: () => number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
