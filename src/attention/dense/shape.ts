import { AttentionInputError } from '../../errors.js';

/**
 * The problem size of one attention call. Tensors are row-major float32:
 * Q and O are [batch, heads, seqQ, headDim]; K and V are [batch, kvHeads, seqK, headDim].
 * Query head h reads key/value head floor(h / (heads / kvHeads)) (grouped-query attention;
 * kvHeads = heads is multi-head, kvHeads = 1 is multi-query).
 */
export type AttentionShape = {
  batch: number;
  heads: number;
  kvHeads: number;
  seqQ: number;
  seqK: number;
  headDim: number;
  /**
   * Bottom-right aligned causal mask: query i sees keys 0 ..= i + (seqK - seqQ), as in decode with a
   * KV cache. When seqQ > seqK the first seqQ - seqK query rows see no key; their output is 0.
   */
  causal: boolean;
  /** Softmax scale; defaults to 1/sqrt(headDim). */
  scale?: number;
};

export type ResolvedShape = Required<AttentionShape>;

const SIZE_FIELDS = ['batch', 'heads', 'kvHeads', 'seqQ', 'seqK', 'headDim'] as const;

/** Checks a shape for consistency and fills in the default scale. Throws AttentionInputError naming the field. */
export function resolveShape(shape: AttentionShape): ResolvedShape {
  for (const field of SIZE_FIELDS) {
    const value = shape[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new AttentionInputError(`${field} must be a positive integer, got ${String(value)}`);
    }
  }
  if (shape.heads % shape.kvHeads !== 0) {
    throw new AttentionInputError(`heads (${shape.heads}) must be divisible by kvHeads (${shape.kvHeads}) for grouped-query attention`);
  }
  const scale = shape.scale ?? 1 / Math.sqrt(shape.headDim);
  if (!Number.isFinite(scale)) {
    throw new AttentionInputError(`scale must be a finite number, got ${String(shape.scale)}`);
  }
  return {
    batch: shape.batch,
    heads: shape.heads,
    kvHeads: shape.kvHeads,
    seqQ: shape.seqQ,
    seqK: shape.seqK,
    headDim: shape.headDim,
    causal: Boolean(shape.causal),
    scale,
  };
}

/** Element counts of each tensor. */
export function tensorSizes(s: AttentionShape): { q: number; k: number; v: number; o: number } {
  const q = s.batch * s.heads * s.seqQ * s.headDim;
  const kv = s.batch * s.kvHeads * s.seqK * s.headDim;
  return { q, k: kv, v: kv, o: q };
}

/** Key/value head read by query head `h`. */
export function kvHeadOf(s: AttentionShape, h: number): number {
  return Math.floor(h / (s.heads / s.kvHeads));
}

/** Number of keys query row i (0-based) attends to. */
export function visibleKeys(s: AttentionShape, i: number): number {
  if (!s.causal) return s.seqK;
  return Math.max(0, Math.min(s.seqK, i + (s.seqK - s.seqQ) + 1));
}

/** Unmasked (query, key) pairs of one head: the work any exact attention must do. */
export function unmaskedPairsPerHead(s: AttentionShape): number {
  if (!s.causal) return s.seqQ * s.seqK;
  // Rows see min(seqK, max(0, i + off + 1)) keys; sum it in closed form rather than loop at N=1e6.
  const off = s.seqK - s.seqQ;
  let total = 0;
  // Rows whose window is still growing: i + off + 1 in [1, seqK).
  const firstVisible = Math.max(0, -off); // first row that sees at least one key
  const firstFull = Math.max(firstVisible, s.seqK - off - 1); // first row that sees every key
  const growingEnd = Math.min(s.seqQ, firstFull);
  if (growingEnd > firstVisible) {
    const a = firstVisible + off + 1;
    const b = growingEnd - 1 + off + 1;
    total += ((a + b) * (growingEnd - firstVisible)) / 2;
  }
  if (s.seqQ > firstFull) total += (s.seqQ - firstFull) * s.seqK;
  return total;
}

/** A compact label such as "B1 H8/2 Nq128 Nk256 d64 causal". */
export function shapeLabel(s: AttentionShape): string {
  const heads = s.kvHeads === s.heads ? `H${s.heads}` : `H${s.heads}/${s.kvHeads}`;
  const seq = s.seqQ === s.seqK ? `N${s.seqQ}` : `Nq${s.seqQ} Nk${s.seqK}`;
  return `B${s.batch} ${heads} ${seq} d${s.headDim}${s.causal ? ' causal' : ''}`;
}
