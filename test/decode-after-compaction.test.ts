// Two families together, as a serving engine uses them: evict half of a paged cache's tokens (at
// random, or the lowest key norms with the mask made on the GPU), compact it on the GPU (the kvcache family), then decode over the compacted cache (the
// decode family). The output must equal float64 attention over exactly the surviving tokens, in
// their original order: no survivor lost, duplicated or reordered by the compaction.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeProblem } from '../src/attention/decode/problem.js';
import { poolBlocks } from '../src/attention/decode/shape.js';
import { kvCacheProblem } from '../src/attention/kvcache/problem.js';
import { blockAccounting } from '../src/attention/kvcache/reference.js';
import type { AttentionDevice } from '../src/gpu/device.js';
import { compareOutputs } from '../src/harness/compare.js';
import { runKernel } from '../src/harness/run.js';
import { sharedDevice } from './helpers/gpu.js';

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

/** softmax(scale·q·Kᵀ)·V over the given key rows, in float64. */
function attend(q: ArrayLike<number>, keys: Float64Array[], values: Float64Array[], scale: number): Float64Array {
  const scores = keys.map((k) => {
    let dot = 0;
    for (let c = 0; c < k.length; c++) dot += q[c]! * k[c]!;
    return dot * scale;
  });
  const max = Math.max(...scores);
  const weights = scores.map((x) => Math.exp(x - max));
  const sum = weights.reduce((a, b) => a + b, 0);
  const out = new Float64Array(values[0]!.length);
  values.forEach((v, j) => {
    for (let c = 0; c < v.length; c++) out[c]! += (weights[j]! / sum) * v[c]!;
  });
  return out;
}

describe('decode over a compacted cache', () => {
  for (const policy of ['random', 'score'] as const) {
    it(`equals float64 attention over exactly the surviving tokens, and frees whole blocks (${policy} eviction)`, async () => {
      const [batch, heads, kvHeads, d, seqK, bs] = [2, 4, 2, 32, 200, 16];
      const kv = kvCacheProblem.resolve({ batch, seqK, kvHeads, headDim: d, blockSize: bs, dtype: 'f32', policy, evict: 50 });
      const compacted = await runKernel(gpu, { kernel: 'compact', shape: kv, seed: 3 });
      const original = compacted.inputs;
      // The score policy's mask is the GPU's own (an output); the host's copy must agree with it.
      const keep = (policy === 'score' ? compacted.outputs.keep : original.keep) as Uint32Array;
      expect(keep).toEqual(original.keep);
      const lens = original.contextLens as Uint32Array;
      const table = original.blockTable as Uint32Array;
      const pool = original.kPool as Float32Array;
      const vpool = original.vPool as Float32Array;
      const newLens = compacted.outputs.newLens as Uint32Array;
      const accounting = blockAccounting(kv, keep, lens);
      expect(accounting.blocksFreedAfter).toBeGreaterThan(accounting.blocksFreedBeforeCompaction);

      // The decode problem's paged cache: the same layout, a pool with spare blocks beyond the
      // compacted one (never referenced), the compacted table and lengths.
      const dec = decodeProblem.resolve({ batch, heads, kvHeads, headDim: d, seqK, seqQ: 1, kvType: 'f32', layout: 'paged', blockSize: bs, lengths: 'equal' });
      const rows = poolBlocks(dec) * kvHeads * bs * d;
      const kPool = new Float32Array(rows);
      const vPool = new Float32Array(rows);
      kPool.set(compacted.outputs.kPool as Float32Array);
      vPool.set(compacted.outputs.vPool as Float32Array);
      const q = decodeProblem.inputs(dec, 5).q as Float32Array;
      const run = await runKernel(gpu, {
        kernel: 'decode-split',
        shape: dec,
        inputs: { q, k: kPool, v: vPool, contextLens: newLens, blockTable: compacted.outputs.newTable as Uint32Array },
      });

      // The reference reads the ORIGINAL cache through the ORIGINAL table, survivors only, in order.
      const row = (src: Float32Array, b: number, h: number, t: number) => {
        const block = table[b * Math.ceil(seqK / bs) + Math.floor(t / bs)]!;
        const at = ((block * kvHeads + h) * bs + (t % bs)) * d;
        return Float64Array.from(src.subarray(at, at + d));
      };
      const expected = new Float64Array(batch * heads * d);
      for (let b = 0; b < batch; b++) {
        const survivors = [...Array(lens[b]).keys()].filter((t) => keep[b * seqK + t] === 1);
        expect(newLens[b]).toBe(survivors.length);
        for (let h = 0; h < heads; h++) {
          const kvh = Math.floor(h / (heads / kvHeads));
          const keys = survivors.map((t) => row(pool, b, kvh, t));
          const values = survivors.map((t) => row(vpool, b, kvh, t));
          expected.set(attend(q.subarray((b * heads + h) * d, (b * heads + h + 1) * d), keys, values, 1 / Math.sqrt(d)), (b * heads + h) * d);
        }
      }
      const cmp = compareOutputs(run.outputs.o as Float32Array, expected, { atol: 1e-4, rtol: 1e-3 });
      expect(cmp.ok, `max abs error ${cmp.maxAbsError}, ${cmp.mismatches} mismatches`).toBe(true);
    });
  }
});
