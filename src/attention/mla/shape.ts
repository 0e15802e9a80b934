import { type DecodeStepShape, KV_ELEMENT_BYTES, contextLabel } from '../decode/context.js';

/**
 * One MLA (multi-head latent attention, DeepSeek-V2/V3) decode step with the up-projections
 * absorbed: every query head attends over one shared cache row per token, [c_kv, k_pe] of
 * kvLora + ropeDim elements. K is the whole row, V its first kvLora elements (the latent c_kv).
 * Q is [batch, heads, seqQ, kvLora + ropeDim] f32 (q_nope·W_UK, then q_pe), O is
 * [batch, heads, seqQ, kvLora] f32 (the caller applies W_UV·W_O). The cache is
 * [batch, seqK, kvLora + ropeDim] in f32 or f16. The batch, context lengths (in tokens), query
 * block and storage type are those of every decode step (decode/context.ts).
 */
export interface MlaShape extends DecodeStepShape {
  /** Width of the latent c_kv: V's width and K's first part (DeepSeek's kv_lora_rank). */
  kvLora: number;
  /** Width of the decoupled RoPE key k_pe, K's last part (qk_rope_head_dim). */
  ropeDim: number;
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

/** Elements of one cached token: the latent and the RoPE key (K's width). */
export function rowWidth(s: Pick<MlaShape, 'kvLora' | 'ropeDim'>): number {
  return s.kvLora + s.ropeDim;
}

/** Cache bytes per token (one layer): (kvLora + ropeDim) × element size, shared by every head. */
export function bytesPerToken(s: Pick<MlaShape, 'kvLora' | 'ropeDim' | 'kvType'>): number {
  return rowWidth(s) * KV_ELEMENT_BYTES[s.kvType];
}

/** Query rows of one sequence: every head × the Nq rows (all share the one latent KV head). */
export function queryRows(s: MlaShape): number {
  return s.heads * s.seqQ;
}

/** A compact label such as "B1 H128 Nk32768 lora512+rope64 f16 1152B/token". */
export function mlaLabel(s: MlaShape): string {
  return `B${s.batch} H${s.heads}${contextLabel(s)} lora${s.kvLora}+rope${s.ropeDim} ${s.kvType} ${bytesPerToken(s)}B/token`;
}
