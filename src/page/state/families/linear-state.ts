import { linearProblem } from '../../../attention/linear/problem.js';
import type { LinearShape } from '../../../attention/linear/shape.js';
import { tensorBytes } from '../../../gpu/tensors.js';
import { type PageConfig, shapeAt, shapeProblem } from '../config.js';

/** The chart's longest sequence: 1M tokens. */
export const LINEAR_MAX_N = 1 << 20;
/** The chart starts here unless the crossover lies lower (then it starts a little below it). */
export const LINEAR_MIN_N = 1024;

export interface StateVsCache {
  shape: LinearShape;
  /** Bytes of one sequence's recurrent state (every head's d_k×d_v f32 state): the same at any N. */
  stateBytes: number;
  /** Bytes per token of the K and V rows softmax attention would cache for the same heads and dims, in the storage type. */
  kvBytesPerToken: number;
  /** Tokens at which the KV cache reaches the state's size (fractional). */
  crossover: number;
  /** Powers of two over the chart's range, and the crossover among them. */
  ns: number[];
  /** The KV cache's bytes at each of ns (the state's own at the crossover, by its definition). */
  kvBytes: number[];
}

/**
 * One sequence's state against the KV cache a softmax attention of the same heads and head dims
 * would keep, both read off the linear problem's own tensors at batch 1: the final state sT
 * (heads·dk·dv f32) and the keys and values k and v (heads·T·dk and heads·T·dv in the storage type).
 */
export function stateVsCache(config: PageConfig): { model: StateVsCache } | { message: string } {
  if (config.family !== 'linear') return { message: 'not the linear family' };
  const problem = shapeProblem(config);
  if (problem) return { message: problem };
  const shape = { ...(shapeAt(config, Math.min(...config.seqs)) as LinearShape), batch: 1 };
  const bytesOf = (s: LinearShape, names: string[]) =>
    linearProblem
      .tensors(s)
      .filter((t) => names.includes(t.name))
      .reduce((sum, t) => sum + tensorBytes(t), 0);
  const stateBytes = bytesOf(shape, ['sT']);
  // The softmax layer compared has one K and one V head per value head, whatever GVA shares in q/k.
  const kvShape = { ...shape, qkHeads: shape.heads };
  const kvBytesPerToken = bytesOf({ ...kvShape, seqK: 1 }, ['k', 'v']);
  const crossover = stateBytes / kvBytesPerToken;
  // Powers of two from LINEAR_MIN_N (or two doublings below the crossover) to LINEAR_MAX_N.
  const start = Math.max(1, Math.min(LINEAR_MIN_N, 2 ** (Math.floor(Math.log2(crossover)) - 2)));
  const ns: number[] = [];
  for (let n = start; n <= LINEAR_MAX_N; n *= 2) ns.push(n);
  if (!ns.includes(crossover)) ns.push(crossover);
  ns.sort((a, b) => a - b);
  const kvBytes = ns.map((n) => (n === crossover ? stateBytes : bytesOf({ ...kvShape, seqK: n }, ['k', 'v'])));
  return { model: { shape, stateBytes, kvBytesPerToken, crossover, ns, kvBytes } };
}
