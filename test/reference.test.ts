import { describe, expect, it } from 'vitest';
import { type AttentionInputs, randomInputs, referenceAttention, referenceSampleRows, validateInputs } from '../src/index.js';

const f32 = (values: number[]) => new Float32Array(values);

function shape1(seqQ: number, seqK: number, headDim: number, causal = false) {
  return { batch: 1, heads: 1, kvHeads: 1, seqQ, seqK, headDim, causal };
}

describe('referenceAttention', () => {
  it('matches a hand-computed case', () => {
    // One query, two keys, d = 2, scale 1: scores are q·k0 = 1 and q·k1 = 0.
    const inputs: AttentionInputs = { ...shape1(1, 2, 2), scale: 1, q: f32([1, 0]), k: f32([1, 0, 0, 1]), v: f32([10, 0, 0, 10]) };
    const p0 = Math.E / (Math.E + 1);
    const out = referenceAttention(inputs);
    expect(out[0]).toBeCloseTo(10 * p0, 12);
    expect(out[1]).toBeCloseTo(10 * (1 - p0), 12);
  });

  it('uses 1/sqrt(d) as the default scale', () => {
    const inputs: AttentionInputs = { ...shape1(1, 2, 4), q: f32([1, 1, 1, 1]), k: f32([1, 1, 1, 1, 0, 0, 0, 0]), v: f32([1, 0, 0, 0, 0, 1, 0, 0]) };
    // scores: 4 · 1/2 = 2 and 0.
    const p0 = Math.exp(2) / (Math.exp(2) + 1);
    const out = referenceAttention(inputs);
    expect(out[0]).toBeCloseTo(p0, 12);
    expect(out[1]).toBeCloseTo(1 - p0, 12);
  });

  it('gives softmax rows that sum to 1 (V = identity makes O = P)', () => {
    const n = 6;
    const inputs = randomInputs({ ...shape1(5, n, n) }, 7);
    inputs.v = new Float32Array(n * n);
    for (let j = 0; j < n; j++) inputs.v[j * n + j] = 1;
    const out = referenceAttention(inputs);
    for (let i = 0; i < 5; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        expect(out[i * n + j]!).toBeGreaterThan(0);
        sum += out[i * n + j]!;
      }
      expect(sum).toBeCloseTo(1, 12);
    }
  });

  it('does not change when keys are permuted together with their values', () => {
    const inputs = randomInputs(shape1(4, 7, 3), 11);
    const perm = [3, 0, 6, 1, 5, 2, 4];
    const permute = (src: Float32Array) => {
      const out = new Float32Array(src.length);
      perm.forEach((from, to) => out.set(src.subarray(from * 3, from * 3 + 3), to * 3));
      return out;
    };
    const a = referenceAttention(inputs);
    const b = referenceAttention({ ...inputs, k: permute(inputs.k), v: permute(inputs.v) });
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 12);
  });

  it('makes causal row 0 equal to v0 when seqQ = seqK', () => {
    const inputs = randomInputs(shape1(5, 5, 4, true), 3);
    const out = referenceAttention(inputs);
    for (let c = 0; c < 4; c++) expect(out[c]).toBeCloseTo(inputs.v[c]!, 6);
  });

  it('lets the decode row (seqQ = 1) see every key under the causal mask', () => {
    const inputs = randomInputs(shape1(1, 9, 4, true), 5);
    const open = referenceAttention({ ...inputs, causal: false });
    expect([...referenceAttention(inputs)]).toEqual([...open]);
  });

  it('outputs 0 for rows that see no key (causal, seqQ > seqK)', () => {
    const inputs = randomInputs(shape1(5, 3, 4, true), 5);
    const out = referenceAttention(inputs);
    expect([...out.subarray(0, 8)]).toEqual(new Array(8).fill(0));
    expect(out[8]).toBeCloseTo(inputs.v[0]!, 6);
  });

  it('reads key/value head h / (H / Hkv) for grouped-query attention', () => {
    const gqa = randomInputs({ batch: 2, heads: 4, kvHeads: 2, seqQ: 3, seqK: 5, headDim: 4, causal: false }, 9);
    // The same problem with each K/V head duplicated for its two query heads.
    const dup = (src: Float32Array) => {
      const out = new Float32Array(src.length * 2);
      const head = 5 * 4;
      for (let b = 0; b < 2; b++)
        for (let h = 0; h < 4; h++) out.set(src.subarray((b * 2 + (h >> 1)) * head, (b * 2 + (h >> 1) + 1) * head), (b * 4 + h) * head);
      return out;
    };
    const mha = { ...gqa, kvHeads: 4, k: dup(gqa.k), v: dup(gqa.v) };
    expect([...referenceAttention(gqa)]).toEqual([...referenceAttention(mha)]);
  });

  it('computes a subset of rows identical to the full output', () => {
    const inputs = randomInputs({ batch: 2, heads: 3, kvHeads: 1, seqQ: 7, seqK: 6, headDim: 4, causal: true }, 2);
    const full = referenceAttention(inputs);
    const rows = [0, 6, 13, 41];
    const part = referenceAttention(inputs, rows);
    rows.forEach((row, r) => expect([...part.subarray(r * 4, r * 4 + 4)]).toEqual([...full.subarray(row * 4, row * 4 + 4)]));
    expect(() => referenceAttention(inputs, [42])).toThrow(/outside 0..41/);
  });

  it('propagates NaN to the rows that see it, and treats a −∞ score as masked', () => {
    const inputs = randomInputs(shape1(3, 4, 2, true), 4);
    inputs.v[2 * 2] = Number.NaN; // key 2's value: seen by rows 1 and 2 (bottom-right: row i sees keys ≤ i + 1)
    const out = referenceAttention(inputs);
    expect(Number.isNaN(out[0]!)).toBe(false);
    expect(Number.isNaN(out[2]!)).toBe(true);
    expect(Number.isNaN(out[4]!)).toBe(true);

    const minusInf: AttentionInputs = { ...shape1(1, 2, 1), scale: 1, q: f32([1]), k: f32([Number.NEGATIVE_INFINITY, 1]), v: f32([5, 7]) };
    expect(referenceAttention(minusInf)[0]).toBe(7);
  });
});

describe('validateInputs', () => {
  it('names the tensor, its length and the expected product', () => {
    const inputs = randomInputs(shape1(3, 4, 2), 1);
    expect(() => validateInputs({ ...inputs, k: new Float32Array(7) })).toThrow(/k has 7 elements but the shape needs batch·kvHeads·seqK·headDim = 8/);
    expect(() => validateInputs({ ...inputs, q: [1, 2] as unknown as Float32Array })).toThrow(/q must be a Float32Array, got Array/);
  });

  it('refuses NaN and infinities with the index', () => {
    const inputs = randomInputs(shape1(3, 4, 2), 1);
    inputs.v[5] = Number.POSITIVE_INFINITY;
    expect(() => validateInputs(inputs)).toThrow(/v\[5\] is Infinity: GPU kernels need finite inputs/);
    inputs.v[5] = 0;
    inputs.q[0] = Number.NaN;
    expect(() => validateInputs(inputs)).toThrow(/q\[0\] is NaN/);
  });
});

describe('referenceSampleRows', () => {
  it('returns undefined when the whole output fits the budget', () => {
    expect(referenceSampleRows({ batch: 1, heads: 4, seqQ: 256, seqK: 256, headDim: 64 })).toBeUndefined();
  });

  it('samples a fixed, sorted set within the budget, with each head’s first and last row', () => {
    const shape = { batch: 1, heads: 16, seqQ: 4096, seqK: 4096, headDim: 64 };
    const rows = referenceSampleRows(shape)!;
    expect(rows).toEqual(referenceSampleRows(shape));
    expect(rows.length).toBe(Math.floor(64e6 / (2 * 4096 * 64)));
    expect([...rows].sort((a, b) => a - b)).toEqual(rows);
    expect(new Set(rows).size).toBe(rows.length);
    for (let h = 0; h < 16; h++) {
      expect(rows).toContain(h * 4096);
      expect(rows).toContain(h * 4096 + 4095);
    }
    expect(Math.max(...rows)).toBeLessThan(16 * 4096);
  });
});
