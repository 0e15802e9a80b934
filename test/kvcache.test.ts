// The kvcache family: eviction policies, block accounting, the compaction reference, index
// validation before dispatch, and the compact kernel against the reference on a real adapter
// (SwiftShader here): bit-exact, every conformance shape, two workgroup sizes, f32 and f16 pools.
import { beforeAll, describe, expect, it } from 'vitest';
import { type AttentionDevice, AttentionInputError } from '../src/index.js';
import { defaultCaps } from '../src/gpu/caps.js';
import { compareExpected, mergeComparisons } from '../src/harness/compare.js';
import { runKernel } from '../src/harness/run.js';
import { blockAccounting } from '../src/attention/kvcache/index.js';
import { compactKernel } from '../src/attention/kvcache/compact/kernel.js';
import { kvCacheProblem } from '../src/attention/kvcache/problem.js';
import { planCompaction } from '../src/attention/kvcache/reference.js';
import { type KvCacheShape, NO_BLOCK, maxBlocksPerSeq, numBlocks } from '../src/attention/kvcache/shape.js';
import { getFamily } from '../src/attention/registry.js';
import type { HostTensor, HostTensors } from '../src/attention/types.js';
import { toHalfBits } from '../src/attention/half.js';
import { keepMask, keyNormScores } from '../src/attention/kvcache/policy.js';
import { sharedDevice } from './helpers/gpu.js';

const shape = (raw: Partial<KvCacheShape>) => kvCacheProblem.resolve(raw);

describe('eviction and block accounting', () => {
  it('scattered eviction frees almost no block; compaction frees half of them', () => {
    const s = shape({ seqK: 131072, kvHeads: 1, headDim: 4, blockSize: 16, policy: 'random', evict: 50 });
    const inputs = kvCacheProblem.inputs(s, 1);
    const a = blockAccounting(s, inputs.keep as Uint32Array);
    expect(a.evictedTokens).toBeGreaterThan(0.49 * 131072);
    expect(a.evictedTokens).toBeLessThan(0.51 * 131072);
    // P(all 16 tokens of a block evicted) = 2⁻¹⁶: about 0.1 of 8192 blocks.
    expect(a.blocksFreedBeforeCompaction).toBeLessThanOrEqual(2);
    const survivors = 131072 - a.evictedTokens;
    expect(a.blocksFreedAfter).toBe(8192 - Math.ceil(survivors / 16));
    expect(a.bytesMoved).toBeGreaterThan(0.99 * survivors * 4 * 4 * 2);
  });

  it('a sink + window policy frees the blocks of the evicted middle even before compaction', () => {
    const s = shape({ seqK: 1000, blockSize: 16, policy: 'window', sinks: 4, window: 100, kvHeads: 2, headDim: 8 });
    const keep = kvCacheProblem.inputs(s, 3).keep as Uint32Array;
    const a = blockAccounting(s, keep);
    expect(a.evictedTokens).toBe(1000 - 104);
    // Tokens 4..899 evicted: blocks 1..55 (tokens 16..895) are wholly evicted.
    expect(a.blocksFreedBeforeCompaction).toBe(55);
    expect(a.blocksFreedAfter).toBe(63 - 7);
    expect(a.bytesMoved).toBe(100 * 2 * 8 * 4 * 2);
  });

  it('the score policy keeps the tokens with the largest key norms', () => {
    const s = shape({ seqK: 64, policy: 'score', evict: 25, kvHeads: 2, headDim: 4, blockSize: 8 });
    const inputs = kvCacheProblem.inputs(s, 5);
    const keep = inputs.keep as Uint32Array;
    const scores = inputs.scores as Float32Array;
    expect(keep.reduce((a, b) => a + b, 0)).toBe(48);
    const minKept = Math.min(...scores.filter((_, t) => keep[t]));
    const maxEvicted = Math.max(...scores.filter((_, t) => !keep[t]));
    expect(minKept).toBeGreaterThanOrEqual(maxEvicted);
  });

  it('the reference plan slides survivors forward in order and lists the freed blocks', () => {
    const s = shape({ batch: 2, seqK: 20, blockSize: 8, kvHeads: 1, headDim: 4 });
    const blocks = maxBlocksPerSeq(s);
    const blockTable = Uint32Array.from({ length: numBlocks(s) }, (_, i) => numBlocks(s) - 1 - i);
    const contextLens = Uint32Array.of(20, 9);
    const keep = new Uint32Array(2 * 20);
    for (const t of [0, 3, 17, 19]) keep[t] = 1;
    keep[20 + 8] = 1;
    const plan = planCompaction(s, { blockTable, contextLens, keep });
    expect([...plan.srcOf[0]!]).toEqual([0, 3, 17, 19]);
    expect([...plan.srcOf[1]!]).toEqual([8]);
    expect([...plan.newLens]).toEqual([4, 1]);
    expect([...plan.newTable]).toEqual([5, NO_BLOCK, NO_BLOCK, 2, NO_BLOCK, NO_BLOCK]);
    expect([...plan.freeList]).toEqual([4, 3, 1]);
    expect(blocks).toBe(3);
  });

  it('is registered as a family with its kernel', () => {
    expect(getFamily('kvcache').kernels.map((k) => k.name)).toEqual(['compact']);
  });
});

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

async function runAndCompare(s: KvCacheShape, tiles: { wg: number }, inputs?: HostTensors) {
  const r = await runKernel(gpu, { kernel: compactKernel, shape: s, tiles, inputs, seed: 7 });
  const expected = kvCacheProblem.reference(s, r.inputs, 1e9);
  const comparisons = compareExpected(expected, r.outputs, compactKernel.tolerance);
  return { result: r, comparisons, merged: mergeComparisons(Object.values(comparisons)) };
}

describe('compact on the GPU', () => {
  for (const group of compactKernel.conformance) {
    for (const tiles of group.tiles) {
      it(`equals the reference bit for bit on every conformance shape, wg = ${tiles.wg}`, async () => {
        for (const s of kvCacheProblem.conformanceShapes(group.fixed)) {
          const { merged, comparisons } = await runAndCompare(s, { wg: tiles.wg! });
          const bad = Object.entries(comparisons)
            .filter(([, c]) => !c.ok)
            .map(([n, c]) => `${n}: ${c.mismatches} of ${c.compared}`);
          expect(merged.ok, `${kvCacheProblem.label(s)}: ${bad.join(', ')}`).toBe(true);
          expect(merged.compared).toBeGreaterThan(0);
        }
      });
    }
  }

  it('scans past 256 chunks of one sequence and frees blocks across 300 sequences', async () => {
    // 263 000 tokens: the offsets pass loops over more than 256 chunks, the free list holds more
    // than 256 blocks of one sequence; 300 sequences: each free-list offset sums over > 256 others.
    for (const raw of [
      { seqK: 263000, blockSize: 64, kvHeads: 1, headDim: 4, policy: 'random', evict: 50 },
      { batch: 300, seqK: 20, blockSize: 8, kvHeads: 1, headDim: 4, policy: 'random', evict: 80 },
    ] as const) {
      const s = shape(raw);
      const { merged, result } = await runAndCompare(s, { wg: 64 });
      expect(merged.ok, kvCacheProblem.label(s)).toBe(true);
      expect((result.outputs.freeCount as Uint32Array)[0]).toBe(
        blockAccounting(s, result.inputs.keep as Uint32Array, result.inputs.contextLens as Uint32Array).blocksFreedAfter,
      );
    }
  });

  it('loses, duplicates and reorders no survivor (tokens tagged by position)', async () => {
    // Independent of the reference: every row of token t of sequence b holds 1000·b + t, so each
    // sequence's first newLen slots must read back as exactly its kept positions, increasing.
    const s = shape({ batch: 3, seqK: 300, blockSize: 8, kvHeads: 2, headDim: 4, policy: 'random', evict: 60 });
    const inputs = { ...kvCacheProblem.inputs(s, 11) } as Record<string, Float32Array | Uint32Array>;
    const table = inputs.blockTable as Uint32Array;
    const lens = inputs.contextLens as Uint32Array;
    const blocks = maxBlocksPerSeq(s);
    const row = (b: number, h: number, t: number, tbl: Uint32Array) => ((tbl[b * blocks + Math.floor(t / 8)]! * 2 + h) * 8 + (t % 8)) * 4;
    const k = inputs.kPool as Float32Array;
    for (let b = 0; b < 3; b++)
      for (let t = 0; t < lens[b]!; t++) for (let h = 0; h < 2; h++) k.fill(1000 * b + t + 0.5 * h, row(b, h, t, table), row(b, h, t, table) + 4);
    const { result, merged } = await runAndCompare(s, { wg: 64 }, inputs);
    expect(merged.ok).toBe(true);
    const kOut = result.outputs.kPool as Float32Array;
    const newTable = result.outputs.newTable as Uint32Array;
    const newLens = result.outputs.newLens as Uint32Array;
    const keep = inputs.keep as Uint32Array;
    let freed = 0;
    for (let b = 0; b < 3; b++) {
      const kept = [...keep.subarray(b * 300, b * 300 + lens[b]!)].flatMap((f, t) => (f ? [t] : []));
      expect(newLens[b]).toBe(kept.length);
      for (let h = 0; h < 2; h++) {
        const got = kept.map((_, d) => kOut[row(b, h, d, newTable)]! - 1000 * b - 0.5 * h);
        expect(got).toEqual(kept);
      }
      freed += Math.ceil(lens[b]! / 8) - Math.ceil(kept.length / 8);
    }
    expect((result.outputs.freeCount as Uint32Array)[0]).toBe(freed);
    expect(freed).toBeGreaterThan(0);
  });
});

describe('the score policy on the GPU', () => {
  /**
   * A pool whose keys repeat: the key of token t (every head) is one of four vectors, picked by
   * (t·7 + b) mod 4 (b the sequence), so every sequence's scores come in four tie groups and the
   * threshold falls inside one: only the tie rule (earlier token first) decides who survives there.
   */
  function tiedInputs(s: KvCacheShape, seed: number): Record<string, HostTensor> {
    const inputs = { ...kvCacheProblem.inputs(s, seed) } as Record<string, HostTensor>;
    const table = inputs.blockTable as Uint32Array;
    const lens = inputs.contextLens as Uint32Array;
    const blocks = maxBlocksPerSeq(s);
    const vectors = [0.5, -0.25, 0.75, 0.125].map((v, i) => Array.from({ length: s.headDim }, (_, c) => (c % (i + 2) === 0 ? v : -v / 2)));
    const k = inputs.kPool!.slice();
    for (let b = 0; b < s.batch; b++)
      for (let t = 0; t < lens[b]!; t++) {
        const vec = vectors[(t * 7 + b) % 4]!;
        for (let h = 0; h < s.kvHeads; h++) {
          const row = ((table[b * blocks + Math.floor(t / s.blockSize)]! * s.kvHeads + h) * s.blockSize + (t % s.blockSize)) * s.headDim;
          for (let c = 0; c < s.headDim; c++) k[row + c] = k instanceof Uint16Array ? toHalfBits(vec[c]!) : vec[c]!;
        }
      }
    inputs.kPool = k;
    // What the host believes the policy chose: stale now (computed on the random pool). The GPU never reads it.
    return inputs;
  }

  const cpuChoice = (s: KvCacheShape, inputs: HostTensors) => {
    const scores = keyNormScores(s, inputs.kPool!, inputs.blockTable as Uint32Array, inputs.contextLens as Uint32Array);
    return { scores, keep: keepMask(s, inputs.contextLens as Uint32Array, () => 0, scores) };
  };

  for (const dtype of ['f32', 'f16'] as const) {
    it(`selects exactly the CPU's survivors, ties to the earlier token, ${dtype} pool, batch 3 ragged, evict 0/37/100`, async () => {
      for (const evict of [0, 37, 100]) {
        const s = shape({ batch: 3, seqK: 300, blockSize: 16, kvHeads: 2, headDim: 6, dtype, policy: 'score', evict });
        const inputs = tiedInputs(s, 4);
        const { result, merged, comparisons } = await runAndCompare(s, { wg: 64 }, inputs);
        expect(merged.ok, `${kvCacheProblem.label(s)}: ${JSON.stringify(comparisons)}`).toBe(true);
        const cpu = cpuChoice(s, inputs);
        // The GPU's scores are the CPU's f32 scores bit for bit (SwiftShader rounds every step).
        expect(result.outputs.scores).toEqual(cpu.scores);
        expect(result.outputs.keep).toEqual(cpu.keep);
        const lens = inputs.contextLens as Uint32Array;
        expect([...lens]).toEqual([300, 250, 200]);
        for (let b = 0; b < 3; b++) {
          const kept = lens[b]! - Math.round((lens[b]! * evict) / 100);
          expect((result.outputs.newLens as Uint32Array)[b]).toBe(kept);
        }
        const accounting = blockAccounting(s, result.outputs.keep as Uint32Array, lens);
        expect((result.outputs.freeCount as Uint32Array)[0]).toBe(accounting.blocksFreedAfter);
        if (evict === 37) {
          // The threshold splits a tie group: some token of the threshold's score is kept and a later one evicted.
          const keep = result.outputs.keep as Uint32Array;
          const scores = cpu.scores;
          const threshold = Math.min(...[...scores.subarray(0, 300)].filter((_, t) => keep[t]));
          const tied = [...Array(300).keys()].filter((t) => scores[t] === threshold);
          expect(tied.some((t) => keep[t]) && tied.some((t) => !keep[t])).toBe(true);
          const firstEvicted = tied.find((t) => !keep[t])!;
          expect(tied.filter((t) => t > firstEvicted).every((t) => !keep[t])).toBe(true);
        }
      }
    });
  }

  it('uses its own scores: wrong host keep and scores change nothing, and every key equal keeps the earliest tokens', async () => {
    const s = shape({ batch: 3, seqK: 2500, blockSize: 32, kvHeads: 1, headDim: 8, dtype: 'f32', policy: 'score', evict: 60 });
    const inputs = kvCacheProblem.inputs(s, 9);
    const right = await runKernel(gpu, { kernel: compactKernel, shape: s, inputs, tiles: { wg: 64 } });
    // The opposite ranking and a keep-everything mask: a kernel reading either would keep other tokens.
    const wrong = { ...inputs, scores: (inputs.scores as Float32Array).map((x) => -x), keep: (inputs.keep as Uint32Array).map(() => 1) };
    const { result, merged } = await runAndCompare(s, { wg: 64 }, wrong);
    expect(merged.ok).toBe(true);
    for (const name of ['keep', 'scores', 'newLens', 'newTable', 'freeList', 'freeCount', 'kPool', 'vPool']) {
      expect(result.outputs[name], name).toEqual(right.outputs[name]);
    }
    expect(result.outputs.keep).toEqual(inputs.keep);
    expect(result.outputs.scores).toEqual(inputs.scores);

    // Every key zero: one tie group of score 0; each sequence keeps its first 40%.
    const zero = { ...inputs, kPool: new Float32Array(inputs.kPool!.length) };
    const z = await runAndCompare(s, { wg: 64 }, zero);
    expect(z.merged.ok).toBe(true);
    const keep = z.result.outputs.keep as Uint32Array;
    const lens = inputs.contextLens as Uint32Array;
    for (let b = 0; b < 3; b++) {
      const kept = lens[b]! - Math.round((lens[b]! * 60) / 100);
      const row = [...keep.subarray(b * 2500, (b + 1) * 2500)];
      expect(row.slice(0, kept).every((f) => f === 1)).toBe(true);
      expect(row.slice(kept).every((f) => f === 0)).toBe(true);
    }
  });
});

describe('compact refuses bad indices before any dispatch', () => {
  const s = shape({ batch: 2, seqK: 40, blockSize: 8, kvHeads: 1, headDim: 4 });
  const cases: [string, (i: Record<string, Uint32Array>) => void, RegExp][] = [
    ['a block outside the pool', (i) => (i.blockTable![5 + 1] = 10), /blockTable\[1\]\[1\] = 10 names a block outside the pool of 10 blocks/],
    ['a length past the table', (i) => (i.contextLens![1] = 41), /contextLens\[1\] = 41 is past the block table, which holds 40 tokens/],
    ['a block held twice', (i) => (i.blockTable![5] = i.blockTable![0]!), /blockTable\[1\]\[0\] = \d+ is also blockTable\[0\]\[0\]/],
    ['a keep flag other than 0 or 1', (i) => (i.keep![41] = 2), /keep\[1\]\[1\] = 2 must be 0 or 1/],
  ];
  for (const [what, corrupt, message] of cases) {
    it(`refuses ${what}`, async () => {
      const inputs = Object.fromEntries(Object.entries(kvCacheProblem.inputs(s, 2)).map(([n, t]) => [n, t.slice()])) as Record<string, Uint32Array>;
      corrupt(inputs);
      const error = await runKernel(gpu, { kernel: compactKernel, shape: s, inputs }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttentionInputError);
      expect((error as Error).message).toMatch(message);
    });
  }

  it('refuses a pool past the device binding limit, naming it', () => {
    const caps = defaultCaps();
    const big = shape({ seqK: 1 << 20, kvHeads: 8, headDim: 128 });
    const problems = compactKernel.check(big, { wg: 64 }, caps);
    expect(problems.map((p) => p.limit)).toContain('maxStorageBufferBindingSize');
    expect(problems.find((p) => p.limit === 'maxStorageBufferBindingSize')!.message).toMatch(/each K\/V pool and its scratch needs 4294967296 bytes/);
    expect(compactKernel.check(shape({ seqK: 4096 }), compactKernel.defaultTiles(shape({ seqK: 4096 }), caps), caps)).toEqual([]);
  });

  it('refuses bad shapes naming the field and the limit', () => {
    expect(() => shape({ blockSize: 12 })).toThrow(/blockSize must be one of 8, 16, 32, 64, got 12/);
    expect(() => shape({ dtype: 'f16', headDim: 5 })).toThrow(/headDim must be even for an f16 cache/);
  });
});
