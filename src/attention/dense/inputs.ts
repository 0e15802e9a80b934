import { AttentionInputError } from '../../errors.js';
import { createRng, fillUniform } from '../../rng.js';
import { type AttentionShape, type ResolvedShape, resolveShape, tensorSizes } from './shape.js';

/** Q, K and V in the row-major layout described on AttentionShape, plus the shape itself. */
export interface AttentionInputs extends AttentionShape {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

/**
 * Checks array lengths against the shape and that every value is finite.
 *
 * Non-finite inputs are refused rather than passed on: WGSL lets an implementation assume that no
 * NaN or infinity occurs during shader execution, so a GPU's output for them is undefined (it may
 * differ between GPUs and between kernels). The CPU reference alone follows IEEE rules for them.
 */
export function validateInputs(inputs: AttentionInputs): ResolvedShape {
  const shape = resolveShape(inputs);
  const sizes = tensorSizes(shape);
  for (const name of ['q', 'k', 'v'] as const) {
    const data = inputs[name];
    if (!(data instanceof Float32Array)) {
      throw new AttentionInputError(`${name} must be a Float32Array, got ${describe(data)}`);
    }
    if (data.length !== sizes[name]) {
      const dims = name === 'q' ? 'batch·heads·seqQ·headDim' : 'batch·kvHeads·seqK·headDim';
      throw new AttentionInputError(
        `${name} has ${data.length} elements but the shape needs ${dims} = ${sizes[name]}`,
      );
    }
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      throw new AttentionInputError(
        `${name}[${bad}] is ${data[bad]}: GPU kernels need finite inputs (WGSL leaves NaN and infinity undefined)`,
      );
    }
  }
  return shape;
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    // x - x is NaN exactly for NaN and ±Infinity: one comparison per element on a hot path.
    const x = data[i]!;
    if (x - x !== 0) return i;
  }
  return -1;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return (value as object).constructor?.name ?? typeof value;
}

/** Seeded uniform inputs in [-1, 1): the benchmark's data (never zeros, which hide unwritten outputs). */
export function randomInputs(shape: AttentionShape, seed = 1): AttentionInputs {
  const sizes = tensorSizes(shape);
  const rng = createRng(seed);
  return {
    ...shape,
    q: fillUniform(new Float32Array(sizes.q), rng),
    k: fillUniform(new Float32Array(sizes.k), rng),
    v: fillUniform(new Float32Array(sizes.v), rng),
  };
}
