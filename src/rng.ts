/**
 * A small seeded generator (mulberry32) so that inputs, and thus errors, reproduce across runs,
 * machines and the two runtimes (Node and the browser).
 */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills an array with uniform values in [-amplitude, amplitude). */
export function fillUniform(out: Float32Array, rng: () => number, amplitude = 1): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (rng() * 2 - 1) * amplitude;
  return out;
}
