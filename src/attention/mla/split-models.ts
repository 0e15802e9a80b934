import { ruleProblem } from '../common.js';
import { KV_ELEMENT_BYTES, contextLengths } from '../decode/context.js';
import type { ConfigProblem } from '../types.js';
import { type MlaShape, queryRows, rowWidth } from './shape.js';

// What both MLA split-KV kernels (mla-split, mla-rows) share: the width rule of reading the cache in
// 16-byte vectors, and the traffic of a split pass plus decode's merge.

/** kvLora and ropeDim must be whole 16-byte vectors of the cache type; `name` heads the messages. */
export function widthProblems(s: MlaShape, name: string): ConfigProblem[] {
  const per16 = 16 / KV_ELEMENT_BYTES[s.kvType];
  const problems: ConfigProblem[] = [];
  for (const [key, value] of [
    ['kvLora', s.kvLora],
    ['ropeDim', s.ropeDim],
  ] as const) {
    if (value % per16 !== 0) {
      problems.push(
        ruleProblem(
          `${key} % ${per16}`,
          value % per16,
          0,
          `${name} reads ${s.kvType} cache rows in 16-byte vectors: ${key} must be a multiple of ${per16}, got ${value}`,
        ),
      );
    }
  }
  return problems;
}

/**
 * Bytes of a split pass and its merge: each of `rowTiles` streams every token's `elementsPerToken`
 * cache elements (row tiles of one split run side by side, so past the first the reads mostly hit
 * L2, but they are counted); every workgroup that holds tokens reads its rows of Q; partials are
 * written and read back once per such split; O written; the lengths read by both passes.
 */
export function splitBytes(s: MlaShape, chunk: number, rowTiles: number, elementsPerToken: number): number {
  const lens = contextLengths(s);
  const tokens = lens.reduce((a, b) => a + b, 0);
  const kv = rowTiles * tokens * elementsPerToken * KV_ELEMENT_BYTES[s.kvType];
  const usedSplits = lens.reduce((a, n) => a + Math.ceil(n / chunk), 0);
  const rows = queryRows(s);
  const q = usedSplits * rows * rowWidth(s) * 4;
  const partials = 2 * usedSplits * rows * (s.kvLora + 2) * 4;
  const o = s.batch * rows * s.kvLora * 4;
  const lengths = 4 * (usedSplits * rowTiles + s.batch * rows);
  return kv + q + partials + o + lengths;
}
