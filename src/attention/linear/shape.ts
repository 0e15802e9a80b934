/** A resolved shape of the linear family: every field filled in and checked. */
export interface LinearShape {
  batch: number;
  /** Value heads: each has its own state, v, gates, output. */
  heads: number;
  /** Query/key heads; heads / qkHeads value heads share each (GVA, as Qwen3-Next's gated DeltaNet). */
  qkHeads: number;
  /** Sequence length T. */
  seqK: number;
  /** Key (and query) features d_k: the state's rows. */
  dk: number;
  /** Value features d_v: the state's columns. */
  dv: number;
  /** 'gla': gated linear attention (scalar decay); 'delta': gated delta rule (L2-normalized q, k; a β per token). */
  rule: 'gla' | 'delta';
  /** How fast the gate forgets: 'strong' αₜ ≈ 0.3–0.7, 'weak' αₜ ≈ 0.99 (long memory). */
  decay: 'strong' | 'weak';
  /** Element type of q, k, v, g, β and o; the state (s0, sT) and every accumulation stay f32. */
  storage: 'f32' | 'f16';
  /** Query scale, 1/√d_k. */
  scale: number;
}

/** ε inside the L2 norm of q and k (as fla's l2norm): x / √(Σx² + ε). */
export const L2_EPS = 1e-6;

export function shapeLabel(s: LinearShape): string {
  const heads = s.qkHeads === s.heads ? `H${s.heads}` : `H${s.heads}/qk${s.qkHeads}`;
  return `B${s.batch} ${heads} T${s.seqK} dk${s.dk} dv${s.dv} ${s.rule} ${s.decay}${s.storage === 'f16' ? ' f16' : ''}`;
}

/** Number of (batch, head) pairs: each carries one independent d_k×d_v state. */
export function headCount(s: LinearShape): number {
  return s.batch * s.heads;
}
