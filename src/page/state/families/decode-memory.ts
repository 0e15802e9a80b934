import type { DeviceCaps } from '../../../gpu/caps.js';
import { decodeProblem } from '../../../attention/decode/problem.js';
import type { DecodeShape } from '../../../attention/decode/shape.js';
import { tensorBytes } from '../../../gpu/tensors.js';
import { type PageConfig, axisField, shapeAt, shapeProblem } from '../config.js';

export const KV_TYPES = ['f32', 'f16'] as const;
export type KvType = (typeof KV_TYPES)[number];
/** The chart starts at this context length (or lower, when the configured lengths do). */
export const DECODE_MIN_N = 1024;

/** The device limits one K (or V) buffer must fit. */
export const BUFFER_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize'] as const;
export type BufferLimit = (typeof BUFFER_LIMITS)[number];

export interface KvCurve {
  kvType: KvType;
  /** K and V bytes of one token, every kv head. */
  bytesPerToken: number;
  /** K+V bytes of one sequence at each of the model's lengths. */
  bytes: number[];
  /**
   * For each limit, the first context length at which one K buffer of the configured batch and
   * layout is larger than the limit, or null when none up to the field's maximum is.
   */
  limitN: Record<BufferLimit, number | null>;
}

export interface DecodeMemory {
  shape: DecodeShape;
  ns: number[];
  curves: KvCurve[];
  limits: Record<BufferLimit, number>;
  /** The longest context length the field allows. */
  maxN: number;
}

/** A per-sequence view of the configured cache: one sequence, one query row, its full context, contiguous. */
function perSequence(s: DecodeShape, kvType: KvType, seqK: number): DecodeShape {
  return { ...s, batch: 1, seqQ: 1, lengths: 'equal', layout: 'contiguous', kvType, seqK };
}

const kvTensorBytes = (s: DecodeShape, names: readonly string[]) =>
  decodeProblem
    .tensors(s)
    .filter((t) => names.includes(t.name))
    .reduce((sum, t) => sum + tensorBytes(t), 0);

/** KV cache bytes per sequence against context length, in f16 and f32, and where one K buffer passes the device's limits. */
export function decodeMemory(config: PageConfig, caps: DeviceCaps): { model: DecodeMemory } | { message: string } {
  if (config.family !== 'decode') return { message: 'not the decode family' };
  const problem = shapeProblem(config);
  if (problem) return { message: problem };
  const shape = shapeAt(config, Math.max(...config.seqs)) as DecodeShape;
  const field = axisField(decodeProblem);
  const maxN = field.kind === 'int' ? field.max : 1 << 20;
  const limits = { maxStorageBufferBindingSize: caps.limits.maxStorageBufferBindingSize, maxBufferSize: caps.limits.maxBufferSize };
  const partial = KV_TYPES.map((kvType) => {
    // The configured batch and layout (paged pools carry spare blocks) at `n` keys: what one K buffer holds.
    const kBuffer = (n: number) => kvTensorBytes({ ...shape, kvType, seqK: n, seqQ: Math.min(shape.seqQ, n) }, ['k']);
    const limitN = Object.fromEntries(BUFFER_LIMITS.map((name) => [name, firstAbove(kBuffer, limits[name], maxN)])) as Record<BufferLimit, number | null>;
    return { kvType, bytesPerToken: kvTensorBytes(perSequence(shape, kvType, 1), ['k', 'v']), limitN };
  });
  // Powers of two up to the last limit crossing (at least one doubling past the first), within the field.
  const crossings = partial.flatMap((c) => Object.values(c.limitN).filter((n): n is number => n !== null));
  const end = Math.min(maxN, crossings.length > 0 ? 2 ** Math.ceil(Math.log2(Math.max(...crossings))) : maxN);
  const ns: number[] = [];
  for (let n = Math.min(DECODE_MIN_N, Math.min(...config.seqs)); n < end; n *= 2) ns.push(n);
  ns.push(end);
  const withMarks = [...new Set([...ns, ...crossings])].sort((a, b) => a - b);
  const curves = partial.map((c) => ({ ...c, bytes: withMarks.map((n) => kvTensorBytes(perSequence(shape, c.kvType, n), ['k', 'v'])) }));
  return { model: { shape, ns: withMarks, curves, limits, maxN } };
}

/** The smallest n in 1..max with bytes(n) > limit (bytes grows with n), or null. */
export function firstAbove(bytes: (n: number) => number, limit: number, max: number): number | null {
  if (bytes(max) <= limit) return null;
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (bytes(mid) > limit) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
