import { F32_TOLERANCE } from '../../../harness/compare.js';
import { type SplitTiles, checkSplit, decodeSplitKernel, defaultChunk, prepareSplit, splitGeometry } from '../../decode/split/kernel.js';
import * as splitKv from '../../decode/split/split-kv.js';
import type { DecodeShape } from '../../decode/shape.js';
import type { KernelDescriptor } from '../../types.js';
import { mlaProblem } from '../problem.js';
import { splitBytes, widthProblems } from '../split-models.js';
import { type MlaShape, queryRows, rowWidth } from '../shape.js';

/**
 * MLA's one latent KV head as a decode problem: K is the whole cache row (kvLora + ropeDim), V its
 * first kvLora elements, every query head in one GQA group. decode-split reads V from the same
 * buffer through the same row addresses, only fewer vectors of each row.
 */
export function asDecodeShape(s: MlaShape): DecodeShape {
  return {
    batch: s.batch,
    heads: s.heads,
    kvHeads: 1,
    seqK: s.seqK,
    lengths: s.lengths,
    seqQ: s.seqQ,
    kvType: s.kvType,
    scale: s.scale,
    headDim: rowWidth(s),
    layout: 'contiguous',
    blockSize: 16,
  };
}

/**
 * Query rows per workgroup by default: 4. Each invocation keeps its column vector of every row's
 * output in registers (8 floats per row in f16), and with the K vectors of a 576-wide row in flight
 * that is what fits; 16 or 128 heads take 4 or 32 row tiles, each streaming the cache (past the
 * first mostly from L2).
 */
const DEFAULT_ROWS = 4;

export const mlaRowsKernel: KernelDescriptor<MlaShape, SplitTiles> = {
  name: 'mla-rows',
  title: 'MLA on split-KV flash-decoding (row tiles of 4)',
  description:
    "MLA run as decode-split's kernel: the latent cache is one KV head whose K rows are kvLora + ropeDim wide and whose V is the first kvLora elements of the same rows (the same buffer, fewer vectors per row). Row tiles of a few heads each stream the cache: K through workgroup memory, each key's dot products by a few lanes, P·V from V vectors in registers, each split's max, sum and output merged by log-sum-exp. Against mla-split, which serves up to 16 rows from one staged tile, it trades re-reading the cache from L2 per row tile for few registers per invocation.",
  problem: mlaProblem,
  tunables: decodeSplitKernel.tunables,
  searchSpace: { chunk: [256, 512, 1024, 2048], wg: [128, 256, 512], lanes: [4, 8, 16], rows: [2, 4, 8] },
  requiredFeatures: [],
  // f16 is widened to f32 before any product and the reference reads the same halves.
  precision: 'f32',
  tolerance: F32_TOLERANCE,
  // The conformance widths (latent 32–64, rope 8–16) make rows of 5–20 vectors: lanes that divide
  // them, workgroups that are whole V rows, P·V slices that split the tile evenly.
  conformance: [
    {
      fixed: { kvType: 'f32' },
      tiles: [{}, { chunk: 32, wg: 64, lanes: 1, rows: 2, subgroups: 0, unroll: 0, prefetch: 0 }],
    },
    {
      fixed: { kvType: 'f16' },
      tiles: [{}, { chunk: 64, wg: 128, lanes: 1, rows: 4, subgroups: 1, prefetch: 1 }],
    },
  ],

  defaultTiles(s, caps) {
    const d = asDecodeShape(s);
    const most = Math.min(DEFAULT_ROWS, 2 ** Math.ceil(Math.log2(queryRows(s))));
    for (let rows = most; rows >= 1; rows /= 2)
      for (const lanes of [8, 16, 4, 2, 1])
        for (const wg of [256, 512, 128, 64])
          for (const subgroups of [1, 0])
            for (const prefetch of [1, 0]) {
              const base = { wg, lanes, rows, subgroups, unroll: 1, stagger: 1, prefetch, qregs: 0 };
              const tiles = { ...base, chunk: defaultChunk(d, base) };
              if (this.check(s, tiles, caps).length === 0) return tiles;
            }
    // Nothing fits: check() names the limit when the run is planned.
    return { chunk: 256, wg: 64, lanes: 1, rows: 1, subgroups: 0, unroll: 1, stagger: 1, prefetch: 0, qregs: 0 };
  },

  check(s, t, caps) {
    const rules = widthProblems(s, 'mla-rows');
    if (rules.length > 0) return rules;
    return checkSplit(asDecodeShape(s), t, caps, s.kvLora, 'mla-rows');
  },

  bytesMoved(s, t) {
    // Each row tile reads its tokens' whole cache rows for the scores and their latents again for
    // P·V (the second read mostly from L1/L2, counted).
    return splitBytes(s, t.chunk, splitGeometry(asDecodeShape(s), t, s.kvLora).rowTiles, rowWidth(s) + s.kvLora);
  },

  scratch(s, t) {
    return splitKv.partialScratch(splitKv.partialCount(s, t), s.kvLora);
  },

  prepare(device, s, t, caps) {
    // The cache is bound as K and as V; the shader reads V as the first kvLora elements of each row.
    return prepareSplit(device, asDecodeShape(s), t, caps, { name: 'mla-rows', vDim: s.kvLora, buffers: (x) => ({ q: x.q!, k: x.kv!, v: x.kv! }) });
  },
};
