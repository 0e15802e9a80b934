import { F32_TOLERANCE } from '../../../harness/compare.js';
import { bindBuffers, compilePipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, spreadGrid, tilesLabel } from '../../common.js';
import { KV_ELEMENT_BYTES } from '../../decode/context.js';
import kvF16 from '../../decode/split/kv_f16.wgsl?raw';
import kvF32 from '../../decode/split/kv_f32.wgsl?raw';
import { PARAMS_BYTES, encodeSplitParams } from '../../decode/split/params.js';
import paramsSource from '../../decode/split/params.wgsl?raw';
import * as splitKv from '../../decode/split/split-kv.js';
import type { ConfigProblem, KernelDescriptor, Tunable } from '../../types.js';
import { mlaProblem } from '../problem.js';
import { splitBytes, widthProblems } from '../split-models.js';
import { type MlaShape, queryRows, rowWidth } from '../shape.js';
import splitSource from './split.wgsl?raw';

export type MlaSplitTiles = {
  /** Tokens per split (one workgroup's share of a sequence). */
  readonly chunk: number;
  /** Tokens staged in workgroup memory per step. */
  readonly tile: number;
  /** Query rows (heads × Nq) per workgroup, sharing each read of the cache. */
  readonly rows: number;
  readonly wg: number;
};

/**
 * Shortest default split: each split writes heads × (kvLora + 2) floats of partials and reads them
 * back, about 3.6·heads / chunk of the f16 cache's bytes at the default widths, and reads its
 * heads' queries (2·heads / chunk): 35% over the cache at 16 heads and 256 tokens, 70% at 128.
 * Short contexts at 16 heads then run fewer workgroups than TARGET_WORKGROUPS; shorter chunks stay
 * available as tiles.
 */
const MIN_DEFAULT_CHUNK = 256;

const TUNABLES: Tunable<keyof MlaSplitTiles>[] = [
  {
    key: 'chunk',
    label: 'Tokens per split',
    help: 'Context tokens one workgroup streams; fewer means more workgroups and more partials to write and merge.',
    values: splitKv.CHUNKS,
  },
  {
    key: 'tile',
    label: 'Tokens per tile',
    help: 'Cache rows (kvLora + ropeDim each) staged in workgroup memory per step: scores and P·V both read them there.',
    values: [4, 8, 16, 32],
  },
  {
    key: 'rows',
    label: 'Query rows per workgroup',
    help: 'Heads × Nq rows that share one read of each cache row; each invocation keeps this many accumulators per latent column; more rows take more workgroups.',
    values: [1, 2, 4, 8, 16],
  },
  {
    key: 'wg',
    label: 'Workgroup size',
    help: "Invocations per workgroup: a multiple of the latent's 16-byte vectors (P·V gives each invocation one column vector).",
    values: [64, 128, 256],
  },
];

/** Quantities derived from a configuration; the shader derives the same ones. */
export interface MlaSplitGeometry extends splitKv.SplitKvGeometry {
  /** 16-byte vectors per cache row (K) and per latent (V). */
  rowVectors: number;
  vVectors: number;
  halves: number;
  kStride: number;
  qStride: number;
  rowsPer: number;
  lanes: number;
  slices: number;
}

const odd = (n: number) => (n % 2 === 0 ? n + 1 : n);
const pad16 = (n: number) => Math.ceil(n / 16) * 16;

export function mlaSplitGeometry(s: MlaShape, t: MlaSplitTiles): MlaSplitGeometry {
  const bytes = KV_ELEMENT_BYTES[s.kvType];
  const rowVectors = (rowWidth(s) * bytes) / 16;
  const vVectors = (s.kvLora * bytes) / 16;
  const halves = s.kvType === 'f16' ? 2 : 1;
  const d4 = rowWidth(s) / 4;
  const c4 = s.kvLora / 4;
  const kStride = odd(rowVectors);
  const qStride = odd(d4);
  const groups = t.wg / t.tile;
  const rowsPer = Math.max(1, t.rows / groups);
  const lanes = Math.max(1, groups / t.rows);
  const slices = Math.max(1, Math.floor(t.wg / vVectors));
  const workgroupBytes = 16 + t.rows * qStride * 16 + Math.max(t.tile * kStride, slices * c4) * 16 + pad16(lanes * t.rows * t.tile * 4) + pad16(t.rows * 4);
  // Each row's accumulators (one column vector of the latent, widened), the step-2 partial scores,
  // a K vector raw and widened, and the row's max, sum and rescale.
  const registerFloats = t.rows * halves * 4 + rowsPer + 2 * halves * 4 + 4;
  return {
    rowVectors,
    vVectors,
    halves,
    kStride,
    qStride,
    rowsPer,
    lanes,
    slices,
    rowTiles: Math.ceil(queryRows(s) / t.rows),
    splits: Math.ceil(s.seqK / t.chunk),
    workgroupBytes,
    registerFloats,
    ...splitKv.mergeLayout(s.kvLora),
  };
}

export { partialCount } from '../../decode/split/split-kv.js';

/** Query rows per workgroup the default starts from: every row up to 16. */
function largestRows(s: MlaShape): number {
  return Math.min(16, 1 << Math.ceil(Math.log2(queryRows(s))));
}

export const mlaSplitKernel: KernelDescriptor<MlaShape, MlaSplitTiles> = {
  name: 'mla-split',
  title: 'MLA split-KV flash-decoding',
  description:
    "The context of each sequence is split into long chunks, one workgroup per chunk and tile of up to 16 query rows (heads × Nq): all heads share the one latent KV head, so a tile of cache rows (kvLora + ropeDim) staged once in workgroup memory serves every row for the scores and, as its first kvLora elements, for P·V. Each split writes its max, sum and unnormalized output; the decode family's merge pass combines the splits by log-sum-exp. f16 caches are widened with unpack2x16float (no shader-f16).",
  problem: mlaProblem,
  tunables: TUNABLES,
  searchSpace: { chunk: [128, 256, 512, 1024, 2048], tile: [4, 8, 16], rows: [4, 8, 16], wg: [64, 128, 256] },
  requiredFeatures: [],
  // f16 is widened to f32 before any product and the reference reads the same halves.
  precision: 'f32',
  tolerance: F32_TOLERANCE,
  // Chunks of 32 and 64 leave empty splits in the mixed batch and uneven last splits everywhere.
  conformance: [
    {
      fixed: { kvType: 'f32' },
      tiles: [{}, { chunk: 32, tile: 4, rows: 2, wg: 64 }, { chunk: 64, tile: 16, rows: 8, wg: 128 }],
    },
    {
      fixed: { kvType: 'f16' },
      tiles: [{}, { chunk: 32, tile: 32, rows: 16, wg: 64 }, { chunk: 64, tile: 8, rows: 4, wg: 256 }],
    },
  ],

  defaultTiles(s, caps) {
    const preferredWg = caps.limits.maxComputeInvocationsPerWorkgroup >= 128 ? [128, 256, 64] : [64, 128, 256];
    for (let rows = largestRows(s); rows >= 1; rows /= 2)
      for (const tile of [8, 16, 4, 32])
        for (const wg of preferredWg) {
          const base = { rows, tile, wg };
          const tiles = { ...base, chunk: defaultChunk(s, base) };
          if (this.check(s, tiles, caps).length === 0) return tiles;
        }
    // Nothing fits: check() names the limit when the run is planned.
    return { chunk: 256, tile: 4, rows: 1, wg: 64 };
  },

  check(s, t, caps) {
    const bytes = KV_ELEMENT_BYTES[s.kvType];
    const rules = widthProblems(s, 'mla-split');
    if (rules.length > 0) return rules;
    const geo = mlaSplitGeometry(s, t);
    const problems: ConfigProblem[] = [];
    if (t.wg % geo.vVectors !== 0) {
      problems.push(
        ruleProblem(
          'wg % latentVectors',
          geo.vVectors,
          t.wg,
          `The workgroup size (${t.wg}) must be a multiple of the ${geo.vVectors} 16-byte vectors of a ${s.kvType} latent of ${s.kvLora} (P·V gives each invocation one column vector)`,
        ),
      );
    }
    if (t.tile > t.wg) problems.push(ruleProblem('tile ≤ wg', t.tile, t.wg, `Tokens per tile (${t.tile}) must not exceed the workgroup size (${t.wg})`));
    if (t.chunk % t.tile !== 0) problems.push(ruleProblem('chunk % tile', t.chunk, t.tile, `Tokens per split (${t.chunk}) must be whole tiles of ${t.tile}`));
    problems.push(...splitKv.workgroupSizeProblems(caps, t.wg));
    problems.push(
      ...overLimit(
        caps,
        'maxComputeWorkgroupStorageSize',
        geo.workgroupBytes,
        `${t.rows} query rows of ${rowWidth(s)} f32 and a tile of ${t.tile} ${s.kvType} cache rows of ${rowWidth(s)} (kvLora ${s.kvLora} + ropeDim ${s.ropeDim}), with the scores`,
      ),
    );
    problems.push(
      ...overLimit(
        caps,
        'maxComputeInvocationsPerWorkgroup',
        geo.mergeThreads,
        `the merge pass (${geo.mergeSlices} slices × kvLora/4 = ${s.kvLora / 4} columns)`,
      ),
    );
    problems.push(...splitKv.registerProblems(geo.registerFloats, `${t.rows} rows × ${geo.halves * 4} accumulator columns`));
    problems.push(...splitKv.splitGridProblems(caps, geo.splits, geo.rowTiles));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.batch, `batch = ${s.batch}`));
    const outputRows = s.batch * queryRows(s);
    problems.push(...splitKv.mergeGridProblems(caps, outputRows));
    problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 6, 'Q, the cache (bound as K and V), lengths and the two partial buffers'));
    const kvBytes = s.batch * s.seqK * rowWidth(s) * bytes;
    problems.push(...splitKv.bufferProblems(caps, kvBytes, 'the latent cache'));
    const partialBytes = splitKv.partialCount(s, t) * s.kvLora * 4;
    problems.push(...splitKv.bufferProblems(caps, partialBytes, `the partial outputs (B·H·Nq·${geo.splits} splits·kvLora·4)`));
    problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', outputRows * rowWidth(s) * 4, 'Q'));
    return problems;
  },

  bytesMoved(s, t) {
    // Each row tile streams its tokens' cache rows once, from its staged tile (a tile's tokens past
    // the chunk re-read its last token and are not counted).
    return splitBytes(s, t.chunk, mlaSplitGeometry(s, t).rowTiles, rowWidth(s));
  },

  scratch(s, t) {
    return splitKv.partialScratch(splitKv.partialCount(s, t), s.kvLora);
  },

  async prepare(device, s, t, caps) {
    const geo = mlaSplitGeometry(s, t);
    const [split, merger] = await Promise.all([
      compilePipeline(device, {
        label: `mla-split ${tilesLabel(t)} lora=${s.kvLora} rope=${s.ropeDim} ${s.kvType}`,
        code: mlaSplitShaderCode(s, t),
        bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage'],
      }),
      compilePipeline(device, {
        label: `mla-split merge lora=${s.kvLora} chunk=${t.chunk}`,
        code: mlaMergeShaderCode(s, t),
        bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
      }),
    ]);
    const pipelines = [split, merger];
    const mergeGrid = spreadGrid(s.batch * queryRows(s), caps.limits.maxComputeWorkgroupsPerDimension);
    return {
      ...splitKv.pipelinesReport(pipelines),
      bind(tensors) {
        const params = device.createBuffer({ label: 'mla params', size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        device.queue.writeBuffer(params, 0, encodeParams(s, geo, mergeGrid[0]));
        const { partO, partMl } = splitKv.createPartialBuffers(device, 'mla', splitKv.partialCount(s, t), s.kvLora);
        // The cache is both K (whole rows) and V (their latent): bound twice, read-only, as the
        // decode readers declare k_cache and v_cache; the shader reads V from its staged K tile.
        const splitGroup = bindBuffers(device, 'mla-split', split.layout, [params, tensors.q!, tensors.kv!, tensors.kv!, tensors.contextLens!, partO, partMl]);
        const mergeGroup = bindBuffers(device, 'mla-split merge', merger.layout, [params, tensors.contextLens!, partO, partMl, tensors.o!]);
        const splitPass = splitKv.dispatchPass(split.pipeline, splitGroup, [geo.splits * geo.rowTiles, 1, s.batch]);
        const mergePass = splitKv.dispatchPass(merger.pipeline, mergeGroup, mergeGrid);
        return {
          encode(pass) {
            splitPass(pass);
            mergePass(pass);
          },
          destroy() {
            params.destroy();
            partO.destroy();
            partMl.destroy();
          },
        };
      },
    };
  },
};

/**
 * Tokens per split by default: the largest chunk (whole tiles, at least MIN_DEFAULT_CHUNK) that
 * still gives the decode family's TARGET_WORKGROUPS over the longest context; short contexts take
 * the shortest allowed chunk.
 */
export function defaultChunk(s: MlaShape, t: Omit<MlaSplitTiles, 'chunk'>): number {
  const perSplit = s.batch * Math.ceil(queryRows(s) / t.rows);
  const allowed = splitKv.CHUNKS.filter((c) => c >= Math.max(t.tile, MIN_DEFAULT_CHUNK));
  return splitKv.chunkForWorkgroups(allowed, perSplit, s.seqK, allowed[0]!);
}

export function mlaSplitShaderCode(s: MlaShape, t: MlaSplitTiles): string {
  const geo = mlaSplitGeometry(s, t);
  const source = composeShader([paramsSource, s.kvType === 'f16' ? kvF16 : kvF32, splitSource]);
  const specialized = specialize(source, {
    KV_LORA: s.kvLora,
    ROPE_DIM: s.ropeDim,
    WORKGROUP_SIZE: t.wg,
    ROWS: t.rows,
    TILE: t.tile,
    CHUNK: t.chunk,
    ROW_VECTORS: geo.rowVectors,
    V_VECTORS: geo.vVectors,
    K_STRIDE: geo.kStride,
    Q_STRIDE: geo.qStride,
  });
  return unrollLoops(specialized, { ROWS: t.rows, HALVES: geo.halves, ROWS_PER: geo.rowsPer });
}

/** The decode family's merge (same partial layout: row (b·heads + h)·Nq + i, then split), over kvLora columns. */
export function mlaMergeShaderCode(s: MlaShape, t: MlaSplitTiles): string {
  return splitKv.splitMergeShaderCode(s.kvLora, t.chunk);
}

/** The decode family's Params: one KV head whose group is every head, no block table. */
function encodeParams(s: MlaShape, geo: MlaSplitGeometry, mergeGridX: number): ArrayBuffer {
  return encodeSplitParams({
    ...s,
    kvHeads: 1,
    group: s.heads,
    rows: queryRows(s),
    splits: geo.splits,
    rowTiles: geo.rowTiles,
    tableSlots: 0,
    mergeGridX,
  });
}
