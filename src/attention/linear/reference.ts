import { L2_EPS, type LinearShape } from './shape.js';

/** The inputs of one call as plain numbers (f16 storage already decoded to the values the GPU reads). */
export interface LinearValues {
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  /** Log-decay per token: αₜ = exp(gₜ). */
  g: ArrayLike<number>;
  /** Write strength per token (delta only). */
  beta?: ArrayLike<number>;
  /** Initial state per (batch, head), d_k×d_v row-major. */
  s0: ArrayLike<number>;
}

export interface LinearResult {
  /** Outputs of the chosen heads, T×d_v each, in the order of `heads`. */
  o: Float64Array;
  /** Final states of the chosen heads, d_k×d_v each. */
  sT: Float64Array;
}

/**
 * The definition, one token at a time in float64 (like flash-linear-attention's naive.py). S is
 * d_k×d_v (fla's layout) and, per token t:
 *
 *   gla:   S ← αₜ·S + kₜ vₜᵀ                          oₜ = Sᵀ (scale·qₜ)
 *   delta: k̂ = kₜ/‖kₜ‖, q̂ = scale·qₜ/‖qₜ‖
 *          S ← αₜ·S;  S ← S + βₜ·k̂ (vₜ − Sᵀk̂)ᵀ          oₜ = Sᵀ q̂
 *
 * i.e. S ← αₜ(I − βₜ k̂k̂ᵀ)S + βₜ k̂vₜᵀ, the transpose of Sₜ = αₜSₜ₋₁(I − βₜkₜkₜᵀ) + βₜvₜkₜᵀ
 * written with S as d_v×d_k. `heads` lists flat (batch·heads + head) indices of value heads;
 * absent: all. Value head h reads q and k of head ⌊h / (heads / qkHeads)⌋ of its sequence (GVA).
 */
export function referenceLinear(s: LinearShape, x: LinearValues, heads?: readonly number[]): LinearResult {
  const { seqK: T, dk, dv } = s;
  const list = heads ?? Array.from({ length: s.batch * s.heads }, (_, i) => i);
  const o = new Float64Array(list.length * T * dv);
  const sT = new Float64Array(list.length * dk * dv);
  const S = new Float64Array(dk * dv);
  const q = new Float64Array(dk);
  const k = new Float64Array(dk);
  const u = new Float64Array(dv);
  const group = s.heads / s.qkHeads;
  list.forEach((bh, n) => {
    // (b·heads + h) / group = b·qkHeads + ⌊h / group⌋, since heads = qkHeads · group.
    const qkHead = Math.floor(bh / group);
    for (let e = 0; e < dk * dv; e++) S[e] = x.s0[bh * dk * dv + e]!;
    for (let t = 0; t < T; t++) {
      const row = bh * T + t;
      const qkRow = qkHead * T + t;
      for (let r = 0; r < dk; r++) {
        q[r] = x.q[qkRow * dk + r]!;
        k[r] = x.k[qkRow * dk + r]!;
      }
      let qScale = s.scale;
      let kScale = 1;
      if (s.rule === 'delta') {
        qScale /= Math.sqrt(sumSquares(q) + L2_EPS);
        kScale /= Math.sqrt(sumSquares(k) + L2_EPS);
      }
      for (let r = 0; r < dk; r++) {
        q[r]! *= qScale;
        k[r]! *= kScale;
      }
      const alpha = Math.exp(x.g[row]!);
      for (let e = 0; e < dk * dv; e++) S[e]! *= alpha;
      for (let c = 0; c < dv; c++) u[c] = x.v[row * dv + c]!;
      if (s.rule === 'delta') {
        const beta = x.beta![row]!;
        for (let c = 0; c < dv; c++) {
          let sk = 0;
          for (let r = 0; r < dk; r++) sk += S[r * dv + c]! * k[r]!;
          u[c] = beta * (u[c]! - sk);
        }
      }
      for (let r = 0; r < dk; r++) for (let c = 0; c < dv; c++) S[r * dv + c]! += k[r]! * u[c]!;
      for (let c = 0; c < dv; c++) {
        let acc = 0;
        for (let r = 0; r < dk; r++) acc += S[r * dv + c]! * q[r]!;
        o[(n * T + t) * dv + c] = acc;
      }
    }
    sT.set(S, n * dk * dv);
  });
  return { o, sT };
}

function sumSquares(x: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return sum;
}

/** Multiply-adds of the reference per (batch, head): the state decay, update and read, and Sᵀk for delta. */
export function referenceMacsPerHead(s: LinearShape): number {
  return s.seqK * s.dk * s.dv * (s.rule === 'delta' ? 4 : 3);
}

/**
 * The (batch, head) pairs the reference covers within `budget` multiply-adds: all of them when they
 * fit, else an even, fixed spread that always includes the first and the last pair.
 */
export function referenceHeads(s: LinearShape, budget: number): number[] | undefined {
  const total = s.batch * s.heads;
  const per = referenceMacsPerHead(s);
  if (total * per <= budget) return undefined;
  const count = Math.max(1, Math.min(total, Math.floor(budget / per)));
  if (count === 1) return [0];
  const chosen = new Set<number>();
  for (let n = 0; n < count; n++) chosen.add(Math.round((n * (total - 1)) / (count - 1)));
  return [...chosen].sort((a, b) => a - b);
}

/** Relative RMS error, RMS(ref − out)/RMS(ref): fla's measure of agreement. */
export function relativeRms(reference: ArrayLike<number>, actual: ArrayLike<number>): number {
  if (reference.length !== actual.length) throw new RangeError(`cannot compare ${actual.length} values with ${reference.length}`);
  let err = 0;
  let ref = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = reference[i]! - actual[i]!;
    err += d * d;
    ref += reference[i]! * reference[i]!;
  }
  return ref === 0 ? Math.sqrt(err / Math.max(1, reference.length)) : Math.sqrt(err / ref);
}
