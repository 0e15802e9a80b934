import { describe, expect, it } from 'vitest';
import { AttentionInputError, kvHeadOf, resolveShape, shapeLabel, tensorSizes, unmaskedPairsPerHead, visibleKeys } from '../src/index.js';

const base = { batch: 1, heads: 4, kvHeads: 2, seqQ: 5, seqK: 9, headDim: 8, causal: false };

describe('resolveShape', () => {
  it('fills the default scale 1/sqrt(d)', () => {
    expect(resolveShape(base).scale).toBeCloseTo(1 / Math.sqrt(8), 15);
    expect(resolveShape({ ...base, scale: 0.5 }).scale).toBe(0.5);
  });

  it.each([
    ['batch', 0],
    ['heads', -1],
    ['kvHeads', 1.5],
    ['seqQ', 0],
    ['seqK', Number.NaN],
    ['headDim', 0],
  ])('refuses %s = %s, naming the field', (field, value) => {
    expect(() => resolveShape({ ...base, [field]: value })).toThrow(new RegExp(`${field} must be a positive integer, got ${value}`));
  });

  it('refuses heads not divisible by kvHeads, with both numbers', () => {
    expect(() => resolveShape({ ...base, heads: 6, kvHeads: 4 })).toThrow(AttentionInputError);
    expect(() => resolveShape({ ...base, heads: 6, kvHeads: 4 })).toThrow(/heads \(6\) must be divisible by kvHeads \(4\)/);
  });

  it('refuses a non-finite scale', () => {
    expect(() => resolveShape({ ...base, scale: Number.POSITIVE_INFINITY })).toThrow(/scale must be a finite number/);
  });
});

describe('layout helpers', () => {
  it('sizes Q/O by heads·seqQ and K/V by kvHeads·seqK', () => {
    expect(tensorSizes({ ...base, batch: 2 })).toEqual({ q: 2 * 4 * 5 * 8, k: 2 * 2 * 9 * 8, v: 2 * 2 * 9 * 8, o: 2 * 4 * 5 * 8 });
  });

  it('maps query heads to key/value heads in contiguous groups', () => {
    expect([0, 1, 2, 3].map((h) => kvHeadOf(base, h))).toEqual([0, 0, 1, 1]);
    expect([0, 1, 2].map((h) => kvHeadOf({ ...base, heads: 3, kvHeads: 1 }, h))).toEqual([0, 0, 0]);
    expect([0, 1, 2].map((h) => kvHeadOf({ ...base, heads: 3, kvHeads: 3 }, h))).toEqual([0, 1, 2]);
  });

  it('aligns the causal mask bottom-right', () => {
    const decode = { ...base, seqQ: 1, seqK: 9, causal: true };
    expect(visibleKeys(decode, 0)).toBe(9);
    const square = { ...base, seqQ: 4, seqK: 4, causal: true };
    expect([0, 1, 2, 3].map((i) => visibleKeys(square, i))).toEqual([1, 2, 3, 4]);
    const tall = { ...base, seqQ: 5, seqK: 3, causal: true };
    expect([0, 1, 2, 3, 4].map((i) => visibleKeys(tall, i))).toEqual([0, 0, 1, 2, 3]);
    expect(visibleKeys({ ...base, causal: false }, 0)).toBe(9);
  });

  it('counts unmasked pairs in closed form, equal to the row-by-row sum', () => {
    for (let seqQ = 1; seqQ <= 12; seqQ++) {
      for (let seqK = 1; seqK <= 12; seqK++) {
        for (const causal of [false, true]) {
          const s = { ...base, seqQ, seqK, causal };
          let brute = 0;
          for (let i = 0; i < seqQ; i++) brute += visibleKeys(s, i);
          expect(unmaskedPairsPerHead(s), `Nq=${seqQ} Nk=${seqK} causal=${causal}`).toBe(brute);
        }
      }
    }
    expect(unmaskedPairsPerHead({ ...base, seqQ: 4096, seqK: 4096, causal: true })).toBe((4096 * 4097) / 2);
  });

  it('labels shapes compactly', () => {
    expect(shapeLabel({ ...base, causal: true })).toBe('B1 H4/2 Nq5 Nk9 d8 causal');
    expect(shapeLabel({ ...base, kvHeads: 4, seqQ: 9 })).toBe('B1 H4 N9 d8');
  });
});
