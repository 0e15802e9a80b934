import { denseProblem, seededQkv } from './problem.js';
import type { AttentionShape, ResolvedShape } from './shape.js';

/** Q, K and V in the row-major layout described on AttentionShape, plus the shape itself. */
export type AttentionInputs = AttentionShape & {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
};

/** Checks array lengths against the shape and that every value is finite (see validateFloatTensors). */
export function validateInputs(inputs: AttentionInputs): ResolvedShape {
  const { q, k, v, ...shape } = inputs;
  const resolved = denseProblem.resolve(shape);
  denseProblem.validate(resolved, { q, k, v });
  return resolved;
}

/** Seeded uniform inputs in [-1, 1): the dense problem's inputs, with the shape beside them (the shape is checked when they are run). */
export function randomInputs(shape: AttentionShape, seed = 1): AttentionInputs {
  return { ...shape, ...seededQkv(shape, seed) };
}
