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
        const keys = scoreKeys(scores!.subarray(row, row + len));
        const order = Array.from({ length: len }, (_, t) => t);
        // Highest score first; ties keep the earlier token, so the mask is a function of the scores.
        // Compared on the f32 scores' order keys (as the GPU's radix select does), not as doubles.
        order.sort((a, c) => keys[c]! - keys[a]! || a - c);
        for (let i = 0; i < kept; i++) keep[row + order[i]!] = 1;
        break;
      }
    }
  }
  return keep;
}

/**
 * The f32 bits of each score mapped to a u32 whose unsigned order is the numeric order (−0 onto +0,
 * NaN above +∞ or below −∞ by its sign): the map the GPU's radix select (wgsl/radix_select.wgsl
 * order_key) ranks by, so that CPU and GPU order even NaN scores the same way.
 */
export function scoreKeys(scores: Float32Array): Uint32Array {
  const bits = new Uint32Array(scores.buffer.slice(scores.byteOffset, scores.byteOffset + scores.byteLength));
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i] === 0x80000000 ? 0 : bits[i]!;
    bits[i] = x & 0x80000000 ? ~x >>> 0 : (x | 0x80000000) >>> 0;
  }
  return bits;
}

/**
 * Per-token importance for the score policy: the sum over kv heads of the L2 norm of the token's
 * key (a cheap proxy for accumulated attention that needs no queries; the ranking of the mean over
 * heads), read through the block table. [batch, seqK], 0 past a length.
 *
 * The GPU computes the same scores (compact/score.wgsl), and the survivors must be exactly this
 * function's choice, so both evaluate one expression in f32 in one order: per head
 * sq = fround(sq + fround(x·x)) over c = 0..headDim−1, norm = fround(sqrt(sq)), then
 * total = fround(total + norm) over the heads; no division (WGSL division is not correctly rounded).
 * A double operation rounded once to f32 equals the correctly rounded f32 operation for + · and
 * sqrt (53 ≥ 2·24 + 2 bits), so on a device whose f32 add, multiply and sqrt are correctly rounded
 * and not fused (SwiftShader) the scores are bit for bit the GPU's. f16 elements square exactly in
 * f32, so there only sqrt can differ; a device with an approximate sqrt or fused multiply-adds may
 * differ by an ulp or two, which changes the survivors only where two tokens at the threshold score
 * within those ulps of each other.
 */
export function keyNormScores(s: KvCacheShape, kPool: HostTensor, blockTable: Uint32Array, contextLens: Uint32Array): Float32Array {
  const f32 = Math.fround;
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
        for (let c = 0; c < s.headDim; c++) {
          const x = read(base + c);
          sq = f32(sq + f32(x * x));
        }
        total = f32(total + f32(Math.sqrt(sq)));
      }
      scores[b * s.seqK + t] = total;
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
