import { F32_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps } from '../../../gpu/caps.js';
import { bindBuffers, compilePipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, spreadGrid, tilesLabel } from '../../common.js';
import type { ConfigProblem, KernelDescriptor, ScratchBuffer, Tunable } from '../../types.js';
import { decodeProblem } from '../problem.js';
import { type DecodeShape, KV_ELEMENT_BYTES, contextLengths, groupRows, kvRows } from '../shape.js';
import kvF16 from './kv_f16.wgsl?raw';
import kvF32 from './kv_f32.wgsl?raw';
import mergeSource from './merge.wgsl?raw';
import paramsSource from './params.wgsl?raw';
import reduceSubgroup from './reduce_subgroup.wgsl?raw';
import reduceWorkgroup from './reduce_workgroup.wgsl?raw';
import splitSource from './split.wgsl?raw';

export type SplitTiles = {
  /** Keys per split (one workgroup's share of a sequence). */
  readonly chunk: number;
  readonly wg: number;
  /** Invocations sharing one key row (each holds row/lanes of it). */
  readonly lanes: number;
  /** Keys per key group per step, loaded together. */
  readonly unroll: number;
  /** Query rows of the GQA group per workgroup. */
  readonly rows: number;
  readonly subgroups: number;
};

/**
 * Workgroups the default chunk aims for: enough to fill a large GPU several times over (an H200
 * has 132 SMs, each holding up to 16 workgroups of 128 invocations). WebGPU does not report the
 * SM count, so this is a constant sized for the largest devices; smaller GPUs just run more waves.
 */
export const TARGET_WORKGROUPS = 4 * 132 * 4;
/** Largest per-invocation register footprint (floats) we let compile. */
export const MAX_REGISTER_FLOATS = 256;

const CHUNKS = [64, 128, 256, 512, 1024, 2048, 4096, 8192] as const;

const TUNABLES: Tunable<keyof SplitTiles>[] = [
  { key: 'chunk', label: 'Keys per split', help: 'Context keys one workgroup reads; fewer means more workgroups and more partials to merge.', values: CHUNKS },
  { key: 'wg', label: 'Workgroup size', help: 'Invocations per workgroup: wg / lanes keys are read in parallel.', values: [32, 64, 128, 256] },
  { key: 'lanes', label: 'Lanes per key', help: 'Invocations sharing one K/V row, each reading 16-byte vectors of it; the dot product is summed across them.', values: [1, 2, 4, 8, 16, 32] },
  { key: 'unroll', label: 'Keys per step', help: 'Keys each lane group loads before using any, so their memory latencies overlap.', values: [1, 2, 4, 8] },
  { key: 'rows', label: 'Rows per workgroup', help: 'Query rows (GQA heads × Nq) that share one read of K and V; more rows than this take more workgroups.', values: [1, 2, 4, 8, 16, 32, 64] },
  { key: 'subgroups', label: 'Subgroup reductions', help: '1: sum dot products with subgroup shuffles; 0: through workgroup memory.', values: [0, 1] },
];

/** Quantities derived from a configuration; the shader derives the same ones. */
export interface SplitGeometry {
  rowVectors: number;
  laneVectors: number;
  halves: number;
  keyGroups: number;
  rowTiles: number;
  splits: number;
  workgroupBytes: number;
  registerFloats: number;
  mergeSlices: number;
  mergeThreads: number;
}

export function splitGeometry(s: DecodeShape, t: SplitTiles): SplitGeometry {
  const bytes = KV_ELEMENT_BYTES[s.kvType];
  const rowVectors = (s.headDim * bytes) / 16;
  const laneVectors = rowVectors / t.lanes;
  const halves = s.kvType === 'f16' ? 2 : 1;
  const keyGroups = t.wg / t.lanes;
  const d4 = s.headDim / 4;
  const scores = t.unroll * t.rows;
  const chunkBlocks = s.layout === 'paged' ? t.chunk / s.blockSize : t.chunk / 16;
  const pad = (n: number) => Math.ceil(n / 16) * 16;
  const workgroupBytes =
    16 + pad(chunkBlocks * 4) + 2 * pad(keyGroups * t.rows * 4) + keyGroups * d4 * 16 + (t.subgroups ? 0 : pad(scores * t.wg * 4));
  const laneVec4 = laneVectors * halves;
  const registerFloats = 2 * t.rows * laneVec4 * 4 + 2 * t.unroll * laneVectors * 4 + 2 * scores + 3 * t.rows;
  const mergeSlices = Math.max(1, Math.floor(128 / d4));
  return {
    rowVectors,
    laneVectors,
    halves,
    keyGroups,
    rowTiles: Math.ceil(groupRows(s) / t.rows),
    splits: Math.ceil(s.seqK / t.chunk),
    workgroupBytes,
    registerFloats,
    mergeSlices,
    mergeThreads: mergeSlices * d4,
  };
}

export function partialCount(s: DecodeShape, t: SplitTiles): number {
  return s.batch * s.heads * s.seqQ * Math.ceil(s.seqK / t.chunk);
}

function canUseSubgroups(caps: DeviceCaps, lanes: number): boolean {
  return caps.features.includes('subgroups') && lanes <= caps.subgroupMinSize;
}

export const decodeSplitKernel: KernelDescriptor<DecodeShape, SplitTiles> = {
  name: 'decode-split',
  title: 'Split-KV flash-decoding',
  description:
    'The context of each (sequence, kv head) is split into chunks read by separate workgroups (GQA heads and Nq rows share one read of K/V); each writes its max, sum and unnormalized output, and a second pass merges them by log-sum-exp. Contiguous or paged cache, f32 or f16 KV.',
  problem: decodeProblem,
  tunables: TUNABLES,
  searchSpace: { chunk: [128, 256, 512, 1024, 2048], wg: [64, 128, 256], unroll: [2, 4, 8] },
  requiredFeatures: [],
  // f16 K/V is widened to f32 (unpack2x16float) before any product, and the reference reads the
  // same half values: the f32 tolerance holds for both storage types.
  precision: 'f32',
  tolerance: F32_TOLERANCE,
  conformance: [
    { fixed: { kvType: 'f32' }, tiles: [{}, { chunk: 64, wg: 32, lanes: 2, unroll: 1, rows: 2, subgroups: 0 }, { chunk: 128, wg: 64, lanes: 4, unroll: 4, rows: 1, subgroups: 1 }] },
    { fixed: { kvType: 'f16' }, tiles: [{}, { chunk: 64, wg: 64, lanes: 2, unroll: 2, rows: 4, subgroups: 0 }] },
  ],

  defaultTiles(s, caps) {
    const bytes = KV_ELEMENT_BYTES[s.kvType];
    const rowVectors = (s.headDim * bytes) / 16;
    const candidates: SplitTiles[] = [];
    for (const lanes of [32, 16, 8, 4, 2, 1]) {
      if (!Number.isInteger(rowVectors) || rowVectors % lanes !== 0) continue;
      const subgroups = canUseSubgroups(caps, lanes) ? 1 : 0;
      for (const unroll of [4, 2, 1])
        for (const rows of [64, 32, 16, 8, 4, 2, 1]) {
          const wg = Math.max(lanes, Math.min(128, caps.limits.maxComputeInvocationsPerWorkgroup));
          candidates.push({ chunk: 64, wg, lanes, unroll, rows: Math.min(rows, 1 << Math.ceil(Math.log2(groupRows(s)))), subgroups });
        }
    }
    // Prefer subgroup reductions, then the widest lane groups (coalesced rows, fewest shuffles).
    candidates.sort((a, b) => b.subgroups - a.subgroups);
    for (const c of candidates) {
      const tiles = { ...c, chunk: defaultChunk(s, Math.ceil(groupRows(s) / c.rows)) };
      if (this.check(s, tiles, caps).length === 0) return tiles;
    }
    return candidates[0] ?? { chunk: 256, wg: 128, lanes: 1, unroll: 1, rows: 1, subgroups: 0 };
  },

  check(s, t, caps) {
    const problems: ConfigProblem[] = [];
    const bytes = KV_ELEMENT_BYTES[s.kvType];
    const per16 = 16 / bytes;
    if (s.headDim % per16 !== 0) {
      return [ruleProblem(`headDim % ${per16}`, s.headDim % per16, 0, `decode-split reads ${s.kvType} K/V rows in 16-byte vectors: headDim must be a multiple of ${per16}, got ${s.headDim}`)];
    }
    const rowVectors = (s.headDim * bytes) / 16;
    if (rowVectors % t.lanes !== 0) {
      problems.push(ruleProblem('rowVectors % lanes', t.lanes, rowVectors, `Lanes per key (${t.lanes}) must divide the ${rowVectors} 16-byte vectors of a ${s.kvType} row of d = ${s.headDim}`));
    }
    if (t.wg % t.lanes !== 0) problems.push(ruleProblem('wg % lanes', t.lanes, t.wg, `Lanes per key (${t.lanes}) must divide the workgroup size (${t.wg})`));
    if (s.layout === 'paged' && t.chunk % s.blockSize !== 0) {
      problems.push(ruleProblem('chunk % blockSize', t.chunk, s.blockSize, `Keys per split (${t.chunk}) must be whole blocks of ${s.blockSize}`));
    }
    if (problems.length > 0) return problems;
    const geo = splitGeometry(s, t);
    problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', t.wg, `Workgroup size ${t.wg}`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', t.wg, `Workgroup size ${t.wg}`));
    problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', geo.mergeThreads, `the merge pass (${geo.mergeSlices} slices × d/4 = ${s.headDim / 4} columns)`));
    problems.push(
      ...overLimit(caps, 'maxComputeWorkgroupStorageSize', geo.workgroupBytes, `${geo.keyGroups} key groups × ${t.rows} rows at d = ${s.headDim} (output slices, row statistics${s.layout === 'paged' ? ', block ids' : ''}${t.subgroups ? '' : ', score partials'})`),
    );
    if (geo.registerFloats > MAX_REGISTER_FLOATS) {
      problems.push(
        ruleProblem('registers per invocation', geo.registerFloats, MAX_REGISTER_FLOATS, `${t.rows} rows × ${geo.laneVectors * geo.halves * 4} columns of Q and output plus ${t.unroll} staged K/V keys need ${geo.registerFloats} registers per invocation, over ${MAX_REGISTER_FLOATS} (it would spill)`),
      );
    }
    if (t.subgroups) {
      if (!caps.features.includes('subgroups')) problems.push(ruleProblem('feature subgroups', 1, 0, 'Subgroup reductions need the "subgroups" feature, which this device lacks'));
      else if (t.lanes > caps.subgroupMinSize) {
        problems.push(ruleProblem('subgroupMinSize', t.lanes, caps.subgroupMinSize, `Subgroup reductions need Lanes per key (${t.lanes}) ≤ the minimum subgroup size (${caps.subgroupMinSize})`));
      }
    }
    const maxGroups = caps.limits.maxComputeWorkgroupsPerDimension;
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', geo.splits * geo.rowTiles, `${geo.splits} splits × ${geo.rowTiles} row tiles`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.kvHeads, `kvHeads = ${s.kvHeads}`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.batch, `batch = ${s.batch}`));
    const outputRows = s.batch * s.heads * s.seqQ;
    if (outputRows > maxGroups * maxGroups) problems.push(ruleProblem('maxComputeWorkgroupsPerDimension', outputRows, maxGroups * maxGroups, `the merge needs ${outputRows} workgroups, more than a 2-D grid holds`));
    if (caps.limits.maxStorageBuffersPerShaderStage < 7) {
      problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 7, 'Q, K, V, lengths, block table and the two partial buffers'));
    }
    const kvBytes = kvRows(s) * s.headDim * bytes;
    problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', kvBytes, `K (and V), ${s.layout}`));
    problems.push(...overLimit(caps, 'maxBufferSize', kvBytes, `K (and V), ${s.layout}`));
    const partialBytes = partialCount(s, t) * s.headDim * 4;
    problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', partialBytes, `the partial outputs (B·H·Nq·${geo.splits} splits·d·4)`));
    problems.push(...overLimit(caps, 'maxBufferSize', partialBytes, `the partial outputs (B·H·Nq·${geo.splits} splits·d·4)`));
    problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', s.batch * s.heads * s.seqQ * s.headDim * 4, 'Q (and O)'));
    return problems;
  },

  bytesMoved(s, t) {
    // Each row tile reads its keys' K and V rows (row tiles of one split run side by side, so past
    // the first the reads mostly hit L2, but they are counted); Q read, partials written and read
    // back once per split that holds keys, O written.
    const geo = splitGeometry(s, t);
    const lens = contextLengths(s);
    const keys = lens.reduce((a, b) => a + b, 0);
    const kv = 2 * geo.rowTiles * keys * s.kvHeads * s.headDim * KV_ELEMENT_BYTES[s.kvType];
    const usedSplits = lens.reduce((a, n) => a + Math.ceil(n / t.chunk), 0);
    const partials = 2 * usedSplits * s.heads * s.seqQ * (s.headDim + 2) * 4;
    const table = s.layout === 'paged' ? geo.rowTiles * s.kvHeads * lens.reduce((a, n) => a + Math.ceil(n / s.blockSize), 0) * 4 : 0;
    const qo = 2 * s.batch * s.heads * s.seqQ * s.headDim * 4;
    return kv + partials + table + qo;
  },

  scratch(s, t) {
    const count = partialCount(s, t);
    return [
      { name: 'partial outputs', bytes: count * s.headDim * 4 },
      { name: 'partial max and sum', bytes: count * 8 },
    ] satisfies ScratchBuffer[];
  },

  async prepare(device, s, t, caps) {
    const geo = splitGeometry(s, t);
    const code = splitShaderCode(s, t);
    const merge = mergeShaderCode(s, t);
    const [split, merger] = await Promise.all([
      compilePipeline(device, {
        label: `decode-split ${tilesLabel(t)} d=${s.headDim} ${s.kvType} ${s.layout}`,
        code,
        bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage'],
      }),
      compilePipeline(device, { label: `decode-split merge d=${s.headDim} chunk=${t.chunk}`, code: merge, bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'] }),
    ]);
    const pipelines = [split, merger];
    const rows = s.batch * s.heads * s.seqQ;
    const mergeGrid = spreadGrid(rows, caps.limits.maxComputeWorkgroupsPerDimension);
    return {
      compileMs: Math.max(...pipelines.map((p) => (p.cached ? 0 : p.compileMs))),
      cached: pipelines.every((p) => p.cached),
      shaders: pipelines.map((p) => ({ label: p.label, code: p.code })),
      bind(tensors) {
        const usage = GPUBufferUsage.STORAGE;
        const params = device.createBuffer({ label: 'decode params', size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        device.queue.writeBuffer(params, 0, encodeParams(s, geo, mergeGrid[0]));
        const count = partialCount(s, t);
        const partO = device.createBuffer({ label: 'decode partial outputs', size: Math.max(16, count * s.headDim * 4), usage });
        const partMl = device.createBuffer({ label: 'decode partial max and sum', size: Math.max(16, count * 8), usage });
        // The contiguous layout has no block table: the binding takes a placeholder it never reads.
        const placeholder = tensors.blockTable ? undefined : device.createBuffer({ label: 'no block table', size: 16, usage });
        const table = tensors.blockTable ?? placeholder!;
        const splitGroup = bindBuffers(device, 'decode-split', split.layout, [params, tensors.q!, tensors.k!, tensors.v!, tensors.contextLens!, table, partO, partMl]);
        const mergeGroup = bindBuffers(device, 'decode-split merge', merger.layout, [params, tensors.contextLens!, partO, partMl, tensors.o!]);
        return {
          encode(pass) {
            pass.setPipeline(split.pipeline);
            pass.setBindGroup(0, splitGroup);
            pass.dispatchWorkgroups(geo.splits * geo.rowTiles, s.kvHeads, s.batch);
            pass.setPipeline(merger.pipeline);
            pass.setBindGroup(0, mergeGroup);
            pass.dispatchWorkgroups(mergeGrid[0], mergeGrid[1]);
          },
          destroy() {
            params.destroy();
            partO.destroy();
            partMl.destroy();
            placeholder?.destroy();
          },
        };
      },
    };
  },
};

/**
 * Keys per split by default: the largest chunk that still gives TARGET_WORKGROUPS workgroups over
 * the longest context (fewer, longer splits mean fewer partials to write and merge).
 */
export function defaultChunk(s: DecodeShape, rowTiles: number): number {
  const perChunk = s.batch * s.kvHeads * rowTiles;
  // Short contexts that even the smallest chunk cannot spread that wide take the smallest chunk.
  let chosen: number = CHUNKS[0];
  for (const chunk of CHUNKS) if (perChunk * Math.ceil(s.seqK / chunk) >= TARGET_WORKGROUPS) chosen = chunk;
  return chosen;
}

export function splitShaderCode(s: DecodeShape, t: SplitTiles): string {
  const geo = splitGeometry(s, t);
  const source = composeShader([paramsSource, s.kvType === 'f16' ? kvF16 : kvF32, t.subgroups ? reduceSubgroup : reduceWorkgroup, splitSource]);
  const specialized = specialize(source, {
    HEAD_DIM: s.headDim,
    WORKGROUP_SIZE: t.wg,
    LANES: t.lanes,
    UNROLL: t.unroll,
    ROWS: t.rows,
    CHUNK: t.chunk,
    PAGED: s.layout === 'paged',
    // The contiguous layout stages no block ids: 16 keeps the (unused) array small.
    BLOCK: s.layout === 'paged' ? s.blockSize : 16,
    ROW_VECTORS: geo.rowVectors,
    LANE_VECTORS: geo.laneVectors,
  });
  return unrollLoops(specialized, {
    ROWS: t.rows,
    UNROLL: t.unroll,
    LANE_VECTORS: geo.laneVectors,
    HALVES: geo.halves,
    SCORES: t.unroll * t.rows,
    LANE_VEC4: geo.laneVectors * geo.halves,
  });
}

export function mergeShaderCode(s: DecodeShape, t: SplitTiles): string {
  const geo = splitGeometry(s, t);
  return specialize(composeShader([paramsSource, mergeSource]), { HEAD_DIM: s.headDim, CHUNK: t.chunk, SLICES: geo.mergeSlices });
}

const PARAMS_BYTES = 48;

function encodeParams(s: DecodeShape, geo: SplitGeometry, mergeGridX: number): ArrayBuffer {
  const buffer = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  u32.set([s.batch, s.heads, s.kvHeads, s.seqQ, s.seqK, s.heads / s.kvHeads, groupRows(s), geo.splits, geo.rowTiles, Math.ceil(s.seqK / s.blockSize)]);
  f32[10] = s.scale * Math.LOG2E;
  u32[11] = mergeGridX;
  return buffer;
}
