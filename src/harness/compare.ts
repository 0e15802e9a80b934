import { fromHalfArray } from '../attention/half.js';
import type { Expected, HostTensor } from '../attention/types.js';

/** How close a kernel's output must be to the float64 reference: |out − ref| ≤ atol + rtol·|ref|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** f32 storage and arithmetic: rounding of d-term dot products, exp2 approximations on GPUs. */
export const F32_TOLERANCE: Tolerance = { atol: 1e-4, rtol: 1e-3 };
/** f16 storage and products with f32 softmax statistics. */
export const F16_TOLERANCE: Tolerance = { atol: 4e-3, rtol: 2e-2 };

export interface Comparison {
  /** max |out − ref| over the compared elements. */
  maxAbsError: number;
  /** max |out − ref| / |ref| over the elements with |ref| ≥ atol (smaller ones are judged by atol alone). */
  maxRelError: number;
  /** Elements breaking the tolerance, NaN where the reference is finite included. */
  mismatches: number;
  /** Index (into the compared arrays) of the worst element, or -1. */
  worstIndex: number;
  compared: number;
  ok: boolean;
}

/**
 * Compares a kernel output with the reference element by element. A non-finite output counts as a
 * mismatch unless the reference is the same non-finite value, so a NaN never passes silently.
 */
export function compareOutputs(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance): Comparison {
  if (actual.length !== expected.length) {
    throw new RangeError(`cannot compare ${actual.length} outputs with ${expected.length} reference values`);
  }
  let maxAbsError = 0;
  let maxRelError = 0;
  let mismatches = 0;
  let worstIndex = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(a) || !Number.isFinite(e)) {
      if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
      mismatches++;
      maxAbsError = Infinity;
      if (worstExcess < Infinity) {
        worstExcess = Infinity;
        worstIndex = i;
      }
      continue;
    }
    const err = Math.abs(a - e);
    const magnitude = Math.abs(e);
    if (err > maxAbsError) maxAbsError = err;
    if (magnitude >= tolerance.atol) {
      const rel = err / magnitude;
      if (rel > maxRelError) maxRelError = rel;
    }
    const excess = err - (tolerance.atol + tolerance.rtol * magnitude);
    if (excess > 0) mismatches++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worstIndex = i;
    }
  }
  return { maxAbsError, maxRelError, mismatches, worstIndex, compared: actual.length, ok: mismatches === 0 };
}

/** Picks the given rows (each `width` wide) out of a full output, in order. */
export function gatherRows(full: ArrayLike<number>, rows: ArrayLike<number>, width: number): Float64Array {
  const out = new Float64Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r]! * width;
    for (let c = 0; c < width; c++) out[r * width + c] = full[base + c]!;
  }
  return out;
}

/** Element values of a host tensor as numbers (f16 bits decoded). */
export function tensorValues(data: HostTensor): ArrayLike<number> {
  return data instanceof Uint16Array ? fromHalfArray(data) : data;
}

/**
 * Compares every tensor the reference covers with the kernel's read-back: whole tensors, or the
 * reference's rows. One Comparison per tensor; the worst decides.
 */
export function compareExpected(expected: Expected, actual: Readonly<Record<string, HostTensor>>, tolerance: Tolerance): Record<string, Comparison> {
  const out: Record<string, Comparison> = {};
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    if (!got) throw new RangeError(`the kernel produced no tensor ${name} to compare`);
    const values = tensorValues(got);
    const picked = want.rows ? gatherRows(values, want.rows, want.rowWidth) : values;
    out[name] = compareOutputs(picked, want.values, tolerance);
  }
  return out;
}

/** The comparisons of several tensors as one: the largest errors, every mismatch. */
export function mergeComparisons(list: readonly Comparison[]): Comparison {
  return {
    maxAbsError: Math.max(0, ...list.map((c) => c.maxAbsError)),
    maxRelError: Math.max(0, ...list.map((c) => c.maxRelError)),
    mismatches: list.reduce((s, c) => s + c.mismatches, 0),
    worstIndex: list.find((c) => c.mismatches > 0)?.worstIndex ?? -1,
    compared: list.reduce((s, c) => s + c.compared, 0),
    ok: list.every((c) => c.ok),
  };
}
