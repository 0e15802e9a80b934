import { F32_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps } from '../../../gpu/caps.js';
import { bindBuffers, compilePipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import { resolveIfBlocks } from '../../../wgsl/conditional.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, spreadGrid, tilesLabel } from '../../common.js';
import type { ConfigProblem, KernelDescriptor, PreparedKernel, TensorBuffers, Tunable } from '../../types.js';
import { decodeProblem } from '../problem.js';
import { type DecodeShape, KV_ELEMENT_BYTES, contextLengths, groupRows, kvRows } from '../shape.js';
import kvF16 from './kv_f16.wgsl?raw';
import kvF32 from './kv_f32.wgsl?raw';
import { PARAMS_BYTES, encodeSplitParams } from './params.js';
import paramsSource from './params.wgsl?raw';
import reduceSubgroup from './reduce_subgroup.wgsl?raw';
import reduceWorkgroup from './reduce_workgroup.wgsl?raw';
import {
  CHUNKS,
  type SplitKvGeometry,
  bufferProblems,
  chunkForWorkgroups,
  createPartialBuffers,
  dispatchPass,
  mergeGridProblems,
  mergeLayout,
  partialCount,
  partialScratch,
  pipelinesReport,
  registerProblems,
  splitGridProblems,
  splitMergeShaderCode,
  workgroupSizeProblems,
} from './split-kv.js';
import splitSource from './split.wgsl?raw';

export { MAX_REGISTER_FLOATS, TARGET_WORKGROUPS, partialCount } from './split-kv.js';

export type SplitTiles = {
  /** Keys per split (one workgroup's share of a sequence). */
  readonly chunk: number;
  readonly wg: number;
  /** Invocations sharing one key's dot products (each a slice of the row); a tile is wg / lanes keys. */
  readonly lanes: number;
  /** Query rows of the GQA group per workgroup. */
  readonly rows: number;
  readonly subgroups: number;
  /** 1: the loops over rows, lanes' vectors and halves are written out (register arrays with constant indices). */
  readonly unroll: number;
  /** 1: each workgroup starts its chunk at a different tile. */
  readonly stagger: number;
  /** 1: each tile's K loads are issued during the previous tile's work (one more tile of K in registers); 2: its V loads too. */
  readonly prefetch: number;
  /** 1: each lane's slices of the query rows stay in registers for the whole chunk (read from workgroup memory once). */
  readonly qregs: number;
};

/**
 * Written-out loops by default: NVIDIA's Vulkan compiler left the plain loops' register arrays
 * (scores, accumulators, staged K/V) where they ran 1.8-2.9x slower on an H200 at Nk = 131072 and
 * 1.8-6.7x at Nk = 32768 (bench/results/h200-decode.md). The price is WGSL length (about 1300
 * lines for the default f16 Nq = 1 shader instead of 360), not compile time on the H200 (0.2-0.5 s).
 */
const DEFAULT_UNROLL = 1;
/**
 * Staggered starts by default: 2.3x faster on paged f16 at Nk = 32768 and within 1.3% elsewhere for
 * the default workgroup size on an H200 (8% slower at wg = 256, lanes = 4, f16 Nk = 131072).
 */
const DEFAULT_STAGGER = 1;
/** Set from the H200 sweep of both values (see the commit that sets it). */
const DEFAULT_PREFETCH = 1;

const TUNABLES: Tunable<keyof SplitTiles>[] = [
  {
    key: 'chunk',
    label: 'Keys per split',
    help: 'Context keys one workgroup streams; fewer means more workgroups and more partials to merge.',
    values: CHUNKS,
  },
  {
    key: 'wg',
    label: 'Workgroup size',
    help: 'Invocations per workgroup: a tile is wg / lanes keys, and each invocation loads (16-byte vectors per row) / lanes vectors of K and of V per tile.',
    values: [32, 64, 128, 256, 512],
  },
  {
    key: 'lanes',
    label: 'Lanes per key',
    help: "Invocations sharing one key's dot products (each a slice of the row), summed by log2(lanes) shuffles or through workgroup memory.",
    values: [1, 2, 4, 8, 16],
  },
  {
    key: 'rows',
    label: 'Rows per workgroup',
    help: 'Query rows (GQA heads × Nq) that share one read of K and V; more rows than this take more workgroups.',
    values: [1, 2, 4, 8, 16],
  },
  {
    key: 'subgroups',
    label: 'Subgroup reductions',
    help: "1: the lanes' sums by subgroup shuffles and the tile max by one atomic per subgroup; 0: through workgroup memory.",
    values: [0, 1],
  },
  {
    key: 'unroll',
    label: 'Unrolled loops',
    help: '1: loops over rows, vectors and halves are written out, so register arrays have constant indices whatever the driver unrolls; 0: plain loops (shorter WGSL).',
    values: [0, 1],
  },
  {
    key: 'stagger',
    label: 'Staggered start',
    help: '1: each workgroup starts its chunk at a different tile, so that concurrent reads spread over memory channels; 0: every chunk from its first tile.',
    values: [0, 1],
  },
  {
    key: 'prefetch',
    label: 'Prefetch K',
    help: "1: the next tile's K loads are issued right after this tile's K reaches workgroup memory, so they land while this tile is scored and summed (costs one more tile of K vectors in registers); 2: the next tile's V loads too (one more tile of V); 0: each tile loads its own K and V and waits.",
    values: [0, 1, 2],
    // Records before it ran prefetch=0's shader, byte for byte.
    absent: 0,
  },
  {
    key: 'qregs',
    label: 'Query in registers',
    help: "1: each lane's slices of the query rows (rows × d / lanes floats) are held in registers for the whole chunk; 0: read from workgroup memory for every key. Needs lanes large enough for the registers.",
    values: [0, 1],
    absent: 0,
  },
];

/** Quantities derived from a configuration; the shader derives the same ones. */
export interface SplitGeometry extends SplitKvGeometry {
  /** 16-byte vectors per K/V row. */
  rowVectors: number;
  /** 16-byte vectors of a V row that P·V reads (rowVectors, or MLA's latent: the first of each K row). */
  vVectors: number;
  /** Keys each invocation takes in P·V per tile (laneVectors when V is as wide as K). */
  pvKeys: number;
  /** K (and V) vectors each invocation loads per tile; K vectors each lane reads per key. */
  laneVectors: number;
  halves: number;
  /** Keys per tile. */
  tile: number;
  /** P·V key slices (workgroup size / row vectors). */
  slices: number;
  /** Padded K tile row, in vectors. */
  kStride: number;
}

/**
 * `vDim`: the width of V, when V is the first vDim elements of each K row (MLA's latent, read from
 * the one cache bound as both); decode's V is as wide as K.
 */
export function splitGeometry(s: DecodeShape, t: SplitTiles, vDim = s.headDim): SplitGeometry {
  const bytes = KV_ELEMENT_BYTES[s.kvType];
  const rowVectors = (s.headDim * bytes) / 16;
  const vVectors = (vDim * bytes) / 16;
  const laneVectors = rowVectors / t.lanes;
  const halves = s.kvType === 'f16' ? 2 : 1;
  const tile = t.wg / t.lanes;
  const slices = t.wg / vVectors;
  const pvKeys = tile / slices;
  const d4 = s.headDim / 4;
  const vd4 = vDim / 4;
  const kStride = paddedStride(rowVectors, t.lanes);
  const blocks = s.layout === 'paged' ? t.chunk / s.blockSize : t.chunk / 16;
  const pad = (n: number) => Math.ceil(n / 16) * 16;
  const workgroupBytes =
    16 +
    pad(Math.max(1, blocks) * 4) +
    t.rows * d4 * 16 +
    Math.max(tile * kStride, slices * vd4) * 16 +
    pad(t.rows * tile * 4) +
    pad(t.rows * 4) +
    pad(slices * 4) +
    (t.subgroups ? 0 : t.rows * t.wg * 4);
  // K and V vectors in flight, each row's accumulators (d / row vectors columns), and per row the
  // running max, sum, partial score, score, rescale and P·V weight.
  const registerFloats =
    (1 + Math.min(t.prefetch, 1)) * laneVectors * 4 +
    (1 + (t.prefetch === 2 ? 1 : 0)) * pvKeys * 4 +
    t.rows * halves * 4 +
    6 * t.rows +
    (t.qregs ? laneVectors * halves * t.rows * 4 : 0);
  return {
    rowVectors,
    vVectors,
    pvKeys,
    laneVectors,
    halves,
    tile,
    slices,
    kStride,
    rowTiles: Math.ceil(groupRows(s) / t.rows),
    splits: Math.ceil(s.seqK / t.chunk),
    workgroupBytes,
    registerFloats,
    ...mergeLayout(vDim),
  };
}

/**
 * Row stride of the K tile in 16-byte vectors: the smallest ≥ rowVectors at which the eight
 * invocations of a quarter warp (8 / lanes keys, lanes consecutive vectors each) read eight
 * different 16-byte bank groups, i.e. stride / lanes odd (any multiple of 8 for 8 lanes or more).
 */
export function paddedStride(rowVectors: number, lanes: number): number {
  for (let stride = rowVectors; ; stride++) {
    if (lanes >= 8 ? stride % 8 === 0 : stride % lanes === 0 && (stride / lanes) % 2 === 1) return stride;
  }
}

function canUseSubgroups(caps: DeviceCaps, lanes: number): boolean {
  return caps.features.includes('subgroups') && lanes <= caps.subgroupMinSize;
}

/** Query rows per workgroup by default: the whole GQA group up to 8 rows, else 8 per row tile. */
export function defaultRows(s: DecodeShape): number {
  const rows = groupRows(s);
  return rows <= 1 ? 1 : Math.min(8, 1 << Math.ceil(Math.log2(rows)));
}

export const decodeSplitKernel: KernelDescriptor<DecodeShape, SplitTiles> = {
  name: 'decode-split',
  title: 'Split-KV flash-decoding',
  description:
    "The context of each (sequence, kv head) is split into long chunks, one workgroup each (GQA heads and Nq rows share one read of K/V), streamed in tiles: K through workgroup memory with coalesced 16-byte loads, each key's dot products by a few lanes (no wide reduction per key), the tile max by atomics, P·V by invocations over d from V held in registers. Each split writes its max, sum and unnormalized output; a second pass merges the few splits by log-sum-exp. Contiguous or paged cache, f32 or f16 KV.",
  problem: decodeProblem,
  tunables: TUNABLES,
  searchSpace: { chunk: [256, 512, 1024, 2048, 4096], wg: [64, 128, 256], lanes: [2, 4, 8], prefetch: [0, 1, 2] },
  requiredFeatures: [],
  // f16 K/V is widened to f32 (unpack2x16float) before any product, and the reference reads the
  // same half values: the f32 tolerance holds for both storage types.
  precision: 'f32',
  tolerance: F32_TOLERANCE,
  // Every group runs on every conformance shape (d = 32 and 64, every block size, so chunks are
  // whole blocks of 64) both on SwiftShader (32 KiB of workgroup memory, subgroups of 4) and on a
  // device with an H200's limits (test/decode.test.ts checks both).
  conformance: [
    {
      fixed: { kvType: 'f32' },
      tiles: [
        {},
        { chunk: 64, wg: 32, lanes: 1, rows: 2, subgroups: 0, unroll: 0, stagger: 0, prefetch: 0 },
        { chunk: 128, wg: 64, lanes: 4, rows: 1, subgroups: 1, stagger: 0, prefetch: 1 },
        { chunk: 64, wg: 256, lanes: 8, rows: 4, subgroups: 0, prefetch: 2, qregs: 1 },
      ],
    },
    {
      fixed: { kvType: 'f16' },
      tiles: [
        {},
        { chunk: 64, wg: 64, lanes: 2, rows: 4, subgroups: 0, unroll: 0, prefetch: 1 },
        { chunk: 256, wg: 128, lanes: 4, rows: 8, subgroups: 1, prefetch: 2 },
        { chunk: 128, wg: 128, lanes: 4, rows: 2, subgroups: 1, stagger: 0, prefetch: 0 },
        { chunk: 128, wg: 256, lanes: 4, rows: 4, subgroups: 1, prefetch: 1, qregs: 1 },
      ],
    },
  ],

  defaultTiles(s, caps) {
    const bytes = KV_ELEMENT_BYTES[s.kvType];
    const rowVectors = (s.headDim * bytes) / 16;
    const preferredWg = Math.min(128, caps.limits.maxComputeInvocationsPerWorkgroup);
    const candidates: { tiles: Omit<SplitTiles, 'chunk'>; cost: number }[] = [];
    for (const rows of [defaultRows(s), 8, 4, 2, 1].filter((r, i, all) => r <= defaultRows(s) && all.indexOf(r) === i))
      for (const subgroups of [1, 0])
        for (const wg of [32, 64, 128, 256])
          for (const lanes of [1, 2, 4, 8, 16]) {
            if (!Number.isInteger(rowVectors) || rowVectors % lanes !== 0 || (subgroups && !canUseSubgroups(caps, lanes))) continue;
            const tile = wg / lanes;
            // Fewest row tiles first, subgroups, then the K and V vectors per invocation and tile
            // that measured best on the H200 (8 of f16, 4 of f32: enough loads in flight, few
            // registers), tiles of at most 64 keys, and the usual size.
            const cost =
              100 * (Math.log2(defaultRows(s)) - Math.log2(rows)) +
              10 * (1 - subgroups) +
              Math.abs(Math.log2(rowVectors / lanes) - Math.log2(s.kvType === 'f16' ? 8 : 4)) +
              (tile > 64 ? 1 : 0) +
              (wg === preferredWg ? 0 : 0.5);
            candidates.push({
              tiles: { wg, lanes, rows, subgroups, unroll: DEFAULT_UNROLL, stagger: DEFAULT_STAGGER, prefetch: DEFAULT_PREFETCH, qregs: 0 },
              cost,
            });
          }
    candidates.sort((a, b) => a.cost - b.cost);
    for (const { tiles: base } of candidates) {
      const tiles = { ...base, chunk: defaultChunk(s, base) };
      if (this.check(s, tiles, caps).length === 0) return tiles;
      // Prefetching needs one more tile of K in registers: where that is what does not fit, the
      // same tiles without it beat other lanes or rows.
      for (let prefetch = tiles.prefetch - 1; prefetch >= 0; prefetch--) {
        const fewer = { ...tiles, prefetch };
        if (this.check(s, fewer, caps).length === 0) return fewer;
      }
    }
    return { chunk: 256, wg: 128, lanes: 1, rows: 1, subgroups: 0, unroll: DEFAULT_UNROLL, stagger: DEFAULT_STAGGER, prefetch: DEFAULT_PREFETCH, qregs: 0 };
  },

  check(s, t, caps) {
    return checkSplit(s, t, caps);
  },

  bytesMoved(s, t) {
    // Each row tile streams its keys' K and V rows once (row tiles of one split run side by side,
    // so past the first the reads mostly hit L2, but they are counted; a tile's keys past the
    // chunk re-read its last key and are not). Every workgroup that holds keys reads its rows of Q
    // and its block ids; partials are written and read back once per such split; O written; the
    // lengths read by both passes.
    const geo = splitGeometry(s, t);
    const lens = contextLengths(s);
    const keys = lens.reduce((a, b) => a + b, 0);
    const kv = 2 * geo.rowTiles * keys * s.kvHeads * s.headDim * KV_ELEMENT_BYTES[s.kvType];
    const usedSplits = lens.reduce((a, n) => a + Math.ceil(n / t.chunk), 0);
    const q = usedSplits * s.heads * s.seqQ * s.headDim * 4;
    const partials = 2 * usedSplits * s.heads * s.seqQ * (s.headDim + 2) * 4;
    const table = s.layout === 'paged' ? geo.rowTiles * s.kvHeads * lens.reduce((a, n) => a + Math.ceil(n / s.blockSize), 0) * 4 : 0;
    const o = s.batch * s.heads * s.seqQ * s.headDim * 4;
    const lengths = 4 * (usedSplits * geo.rowTiles * s.kvHeads + s.batch * s.heads * s.seqQ);
    return kv + q + partials + table + o + lengths;
  },

  scratch(s, t) {
    return partialScratch(partialCount(s, t), s.headDim);
  },

  prepare(device, s, t, caps) {
    return prepareSplit(device, s, t, caps, {
      name: 'decode-split',
      vDim: s.headDim,
      buffers: (x) => ({ q: x.q!, k: x.k!, v: x.v!, blockTable: x.blockTable }),
    });
  },
};

/**
 * Keys per split by default: the largest chunk (whole tiles, whole blocks when paged) that still
 * gives TARGET_WORKGROUPS workgroups over the longest context: fewer, longer splits stream longer
 * runs of K/V and leave fewer partials to write and merge.
 */
export function defaultChunk(s: DecodeShape, t: Omit<SplitTiles, 'chunk'>): number {
  const geo = splitGeometry(s, { ...t, chunk: CHUNKS[0] });
  const perSplit = s.batch * s.kvHeads * geo.rowTiles;
  const allowed = CHUNKS.filter((c) => c >= geo.tile && (s.layout !== 'paged' || c % s.blockSize === 0));
  // Short contexts that even the smallest chunk cannot spread that wide take the smallest chunk.
  return chunkForWorkgroups(allowed, perSplit, s.seqK, allowed[0] ?? CHUNKS[CHUNKS.length - 1]!);
}

export function splitShaderCode(s: DecodeShape, t: SplitTiles, vDim = s.headDim): string {
  const geo = splitGeometry(s, t, vDim);
  const split = resolveIfBlocks(splitSource, { prefetch: t.prefetch >= 1, prefetch_v: t.prefetch === 2, q_regs: t.qregs === 1 }, 'split.wgsl');
  const source = composeShader([paramsSource, s.kvType === 'f16' ? kvF16 : kvF32, t.subgroups ? reduceSubgroup : reduceWorkgroup, split]);
  const specialized = specialize(source, {
    HEAD_DIM: s.headDim,
    WORKGROUP_SIZE: t.wg,
    LANES: t.lanes,
    ROWS: t.rows,
    CHUNK: t.chunk,
    PAGED: s.layout === 'paged',
    // The contiguous layout stages no block ids: 16 keeps the (unused) array small.
    BLOCK: s.layout === 'paged' ? s.blockSize : 16,
    ROW_VECTORS: geo.rowVectors,
    V_VECTORS: geo.vVectors,
    K_STRIDE: geo.kStride,
    LANE_STEPS: Math.log2(t.lanes),
    STAGGER: t.stagger === 1,
  });
  if (!t.unroll) return specialized;
  return unrollLoops(specialized, { ROWS: t.rows, LANE_VECTORS: geo.laneVectors, PV_KEYS: geo.pvKeys, HALVES: geo.halves, LANE_STEPS: Math.log2(t.lanes) });
}

export function mergeShaderCode(s: DecodeShape, t: SplitTiles): string {
  return splitMergeShaderCode(s.headDim, t.chunk);
}

function encodeParams(s: DecodeShape, geo: SplitGeometry, mergeGridX: number): ArrayBuffer {
  return encodeSplitParams({
    ...s,
    group: s.heads / s.kvHeads,
    rows: groupRows(s),
    splits: geo.splits,
    rowTiles: geo.rowTiles,
    tableSlots: Math.ceil(s.seqK / s.blockSize),
    mergeGridX,
  });
}

/**
 * The device and configuration checks of the split pass, for decode and for MLA read through it
 * (`vDim`: V as the first vDim elements of each K row; `name` heads the messages).
 */
export function checkSplit(s: DecodeShape, t: SplitTiles, caps: DeviceCaps, vDim = s.headDim, name = 'decode-split'): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const bytes = KV_ELEMENT_BYTES[s.kvType];
  const per16 = 16 / bytes;
  if (s.headDim % per16 !== 0) {
    return [
      ruleProblem(
        `headDim % ${per16}`,
        s.headDim % per16,
        0,
        `${name} reads ${s.kvType} K/V rows in 16-byte vectors: headDim must be a multiple of ${per16}, got ${s.headDim}`,
      ),
    ];
  }
  const rowVectors = (s.headDim * bytes) / 16;
  if (rowVectors % t.lanes !== 0) {
    problems.push(
      ruleProblem(
        'rowVectors % lanes',
        t.lanes,
        rowVectors,
        `Lanes per key (${t.lanes}) must divide the ${rowVectors} 16-byte vectors of a ${s.kvType} row of d = ${s.headDim}`,
      ),
    );
  }
  const vVectors = (vDim * bytes) / 16;
  if (t.wg % vVectors !== 0) {
    problems.push(
      ruleProblem(
        'wg % rowVectors',
        vVectors,
        t.wg,
        `The workgroup size (${t.wg}) must be a multiple of the ${vVectors} 16-byte vectors of a ${s.kvType} V row of ${vDim} (P·V gives each invocation one vector of a row)`,
      ),
    );
  } else if ((t.wg / t.lanes) % (t.wg / vVectors) !== 0) {
    // Only when V is narrower than K: each invocation must take a whole number of the tile's keys.
    problems.push(
      ruleProblem(
        'tile % slices',
        t.wg / vVectors,
        t.wg / t.lanes,
        `A tile of ${t.wg / t.lanes} keys must split evenly over the ${t.wg / vVectors} P·V slices (workgroup ${t.wg} / ${vVectors} V vectors): take fewer lanes per key`,
      ),
    );
  }
  if (t.wg % t.lanes !== 0) problems.push(ruleProblem('wg % lanes', t.lanes, t.wg, `Lanes per key (${t.lanes}) must divide the workgroup size (${t.wg})`));
  if (s.layout === 'paged' && t.chunk % s.blockSize !== 0) {
    problems.push(ruleProblem('chunk % blockSize', t.chunk, s.blockSize, `Keys per split (${t.chunk}) must be whole blocks of ${s.blockSize}`));
  }
  if (problems.length > 0) return problems;
  const geo = splitGeometry(s, t, vDim);
  problems.push(...workgroupSizeProblems(caps, t.wg));
  problems.push(
    ...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', geo.mergeThreads, `the merge pass (${geo.mergeSlices} slices × d/4 = ${vDim / 4} columns)`),
  );
  problems.push(
    ...overLimit(
      caps,
      'maxComputeWorkgroupStorageSize',
      geo.workgroupBytes,
      `a tile of ${geo.tile} K rows and ${t.rows} query rows at d = ${s.headDim} (Q, K, P, the slices' sums${s.layout === 'paged' ? ', block ids' : ''}${t.subgroups ? '' : ', lane partials'})`,
    ),
  );
  problems.push(
    ...registerProblems(
      geo.registerFloats,
      `${geo.laneVectors} K${t.prefetch ? ` (and ${geo.laneVectors} of the next tile)` : ''} and ${geo.laneVectors} V${t.prefetch === 2 ? " (and the next tile's)" : ''} vectors in flight plus ${t.rows} rows × ${geo.halves * 4} output columns${t.qregs ? ` and ${t.rows} rows × ${geo.laneVectors * geo.halves * 4} query features` : ''}`,
    ),
  );
  if (t.subgroups) {
    if (!caps.features.includes('subgroups'))
      problems.push(ruleProblem('feature subgroups', 1, 0, 'Subgroup reductions need the "subgroups" feature, which this device lacks'));
    else if (t.lanes > caps.subgroupMinSize) {
      problems.push(
        ruleProblem(
          'subgroupMinSize',
          t.lanes,
          caps.subgroupMinSize,
          `Subgroup reductions need Lanes per key (${t.lanes}) ≤ the minimum subgroup size (${caps.subgroupMinSize})`,
        ),
      );
    }
  }
  problems.push(...splitGridProblems(caps, geo.splits, geo.rowTiles));
  problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.kvHeads, `kvHeads = ${s.kvHeads}`));
  problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.batch, `batch = ${s.batch}`));
  problems.push(...mergeGridProblems(caps, s.batch * s.heads * s.seqQ));
  if (caps.limits.maxStorageBuffersPerShaderStage < 7) {
    problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 7, 'Q, K, V, lengths, block table and the two partial buffers'));
  }
  const kvBytes = kvRows(s) * s.headDim * bytes;
  problems.push(...bufferProblems(caps, kvBytes, `K (and V), ${s.layout}`));
  const partialBytes = partialCount(s, t) * vDim * 4;
  problems.push(...bufferProblems(caps, partialBytes, `the partial outputs (B·H·Nq·${geo.splits} splits·d·4)`));
  problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', s.batch * s.heads * s.seqQ * s.headDim * 4, 'Q (and O)'));
  return problems;
}

/** The problem's buffers the split pass reads (K and V may be one buffer: MLA's cache). */
export interface SplitBuffers {
  q: GPUBuffer;
  k: GPUBuffer;
  v: GPUBuffer;
  blockTable?: GPUBuffer;
}

/**
 * Compiles and binds the split and merge passes for a decode shape, for decode-split and for MLA
 * read through it (`vDim`: V as the first vDim elements of each K row). The lengths and the output
 * are the problem's `contextLens` and `o`.
 */
export async function prepareSplit(
  device: GPUDevice,
  s: DecodeShape,
  t: SplitTiles,
  caps: DeviceCaps,
  opts: { name: string; vDim: number; buffers: (tensors: TensorBuffers) => SplitBuffers },
): Promise<PreparedKernel> {
  const { name, vDim } = opts;
  const geo = splitGeometry(s, t, vDim);
  const code = splitShaderCode(s, t, vDim);
  const merge = splitMergeShaderCode(vDim, t.chunk);
  const [split, merger] = await Promise.all([
    compilePipeline(device, {
      label: `${name} ${tilesLabel(t)} d=${s.headDim}${vDim === s.headDim ? '' : `/${vDim}`} ${s.kvType} ${s.layout}`,
      code,
      bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage'],
    }),
    compilePipeline(device, {
      label: `${name} merge d=${vDim} chunk=${t.chunk}`,
      code: merge,
      bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
    }),
  ]);
  const pipelines = [split, merger];
  const rows = s.batch * s.heads * s.seqQ;
  const mergeGrid = spreadGrid(rows, caps.limits.maxComputeWorkgroupsPerDimension);
  return {
    ...pipelinesReport(pipelines),
    bind(tensors) {
      const { q, k, v, blockTable } = opts.buffers(tensors);
      const params = device.createBuffer({ label: `${name} params`, size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(params, 0, encodeParams(s, geo, mergeGrid[0]));
      const { partO, partMl } = createPartialBuffers(device, name, partialCount(s, t), vDim);
      // The contiguous layout has no block table: the binding takes a placeholder it never reads.
      const placeholder = blockTable ? undefined : device.createBuffer({ label: 'no block table', size: 16, usage: GPUBufferUsage.STORAGE });
      const table = blockTable ?? placeholder!;
      const splitGroup = bindBuffers(device, name, split.layout, [params, q, k, v, tensors.contextLens!, table, partO, partMl]);
      const mergeGroup = bindBuffers(device, `${name} merge`, merger.layout, [params, tensors.contextLens!, partO, partMl, tensors.o!]);
      const splitPass = dispatchPass(split.pipeline, splitGroup, [geo.splits * geo.rowTiles, s.kvHeads, s.batch]);
      const mergePass = dispatchPass(merger.pipeline, mergeGroup, mergeGrid);
      return {
        encode(pass) {
          splitPass(pass);
          mergePass(pass);
        },
        // What the merge costs on top of streaming the cache: the price of splitting finer.
        stages: [
          { name: 'split', encode: splitPass },
          { name: 'merge', encode: mergePass },
        ],
        destroy() {
          params.destroy();
          partO.destroy();
          partMl.destroy();
          placeholder?.destroy();
        },
      };
    },
  };
}
