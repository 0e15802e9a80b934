import { AttentionInputError } from '../../errors.js';

/**
 * One MLA (multi-head latent attention, DeepSeek-V2/V3) decode step with the up-projections
 * absorbed: every query head attends over one shared cache row per token, [c_kv, k_pe] of
 * kvLora + ropeDim elements. K is the whole row, V its first kvLora elements (the latent c_kv).
 * Q is [batch, heads, seqQ, kvLora + ropeDim] f32 (q_nope·W_UK, then q_pe), O is
 * [batch, heads, seqQ, kvLora] f32 (the caller applies W_UV·W_O). The cache is
 * [batch, seqK, kvLora + ropeDim] in f32 or f16.
 */
export interface MlaShape {
  batch: number;
  heads: number;
  /** Context length (the longest, with mixed lengths): the tokens a sequence holds. */
  seqK: number;
  /** 'equal': every sequence holds seqK tokens; 'mixed': sequence b holds ceil(seqK·(b+1)/batch). */
  lengths: 'equal' | 'mixed';
  /** Query rows per sequence (the last seqQ positions, causal among themselves). */
  seqQ: number;
  /** Width of the latent c_kv: V's width and K's first part (DeepSeek's kv_lora_rank). */
  kvLora: number;
  /** Width of the decoupled RoPE key k_pe, K's last part (qk_rope_head_dim). */
  ropeDim: number;
  kvType: 'f32' | 'f16';
  scale: number;
}

/**
 * DeepSeek's per-head no-RoPE query/key width before absorption (qk_nope_head_dim = 128 in V2 and
 * V3). Absorbing W_UK into the query leaves every score equal to the un-absorbed q_nope·k_nope +
 * q_pe·k_pe, so the softmax scale stays that of the original head of 128 + ropeDim dims
 * (1/sqrt(192) at ropeDim 64), not 1/sqrt(kvLora + ropeDim).
 */
export const QK_NOPE_HEAD_DIM = 128;

export function defaultScale(ropeDim: number): number {
  return 1 / Math.sqrt(QK_NOPE_HEAD_DIM + ropeDim);
}

export const KV_ELEMENT_BYTES = { f32: 4, f16: 2 } as const;

/** Elements of one cached token: the latent and the RoPE key (K's width). */
export function rowWidth(s: Pick<MlaShape, 'kvLora' | 'ropeDim'>): number {
  return s.kvLora + s.ropeDim;
}

/** Cache bytes per token (one layer): (kvLora + ropeDim) × element size, shared by every head. */
export function bytesPerToken(s: Pick<MlaShape, 'kvLora' | 'ropeDim' | 'kvType'>): number {
  return rowWidth(s) * KV_ELEMENT_BYTES[s.kvType];
}

/** Context length of every sequence, as the seeded inputs hold them (as the decode family). */
export function contextLengths(s: Pick<MlaShape, 'batch' | 'seqK' | 'lengths'>): number[] {
  return Array.from({ length: s.batch }, (_, b) => (s.lengths === 'equal' ? s.seqK : Math.ceil((s.seqK * (b + 1)) / s.batch)));
}

/** Query rows of one sequence: every head × the Nq rows (all share the one latent KV head). */
export function queryRows(s: MlaShape): number {
  return s.heads * s.seqQ;
}

/** (query, visible key) pairs of one head over the whole batch: causal inside the query block. */
export function visiblePairsPerHead(s: MlaShape): number {
  return contextLengths(s).reduce((sum, n) => sum + s.seqQ * n - (s.seqQ * (s.seqQ - 1)) / 2, 0);
}

export function checkConsistency(s: MlaShape): void {
  const shortest = Math.min(...contextLengths(s));
  if (s.seqQ > shortest) {
    throw new AttentionInputError(
      `seqQ = ${s.seqQ} query rows need at least as many keys, but the shortest context holds ${shortest} (seqK = ${s.seqK}, lengths ${s.lengths})`,
    );
  }
  if (!Number.isFinite(s.scale)) throw new AttentionInputError(`scale must be a finite number, got ${String(s.scale)}`);
}

/** A compact label such as "B1 H128 Nk32768 lora512+rope64 f16 1152B/token". */
export function mlaLabel(s: MlaShape): string {
  const q = s.seqQ > 1 ? ` Nq${s.seqQ}` : '';
  const mixed = s.lengths === 'mixed' ? ' mixed' : '';
  return `B${s.batch} H${s.heads}${q} Nk${s.seqK}${mixed} lora${s.kvLora}+rope${s.ropeDim} ${s.kvType} ${bytesPerToken(s)}B/token`;
}
