// What every split-KV decode kernel shares (decode-split over GQA K/V, mla-split over the latent
// cache): the chunk choices and the workgroup count the default chunk aims for, the partial outputs
// each split writes and the merge pass that combines them (merge.wgsl), their pipelines and buffers,
// and the device-limit checks that follow from that structure. Geometry, tiles and the split pass
// itself are each kernel's.
import type { DeviceCaps } from '../../../gpu/caps.js';
import type { CompiledPipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import { specialize } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem } from '../../common.js';
import type { ConfigProblem, PreparedKernel, ScratchBuffer } from '../../types.js';
import type { DecodeStepShape } from '../context.js';
import mergeSource from './merge.wgsl?raw';
import paramsSource from './params.wgsl?raw';

/** The quantities of a split-KV configuration that the shared checks and the merge read. */
export interface SplitKvGeometry {
  /** Workgroups per (split, kv head, sequence), each taking a tile of the query rows. */
  rowTiles: number;
  /** Splits per sequence: ceil(seqK / chunk). */
  splits: number;
  workgroupBytes: number;
  registerFloats: number;
  /** The merge pass (mergeLayout). */
  mergeSlices: number;
  mergeThreads: number;
}

/** Keys (tokens) per split a kernel may take. */
export const CHUNKS = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192] as const;

/**
 * Workgroups (splits × row tiles × kv heads × batch) the default chunk aims for: about four per SM
 * of an H200 (132 SMs). WebGPU does not report the SM count, so this is a device-independent
 * constant; smaller GPUs run more waves of the same workgroups, and `chunk` stays tunable.
 */
export const TARGET_WORKGROUPS = 4 * 132;
/** Largest per-invocation register footprint (floats) we let compile. */
export const MAX_REGISTER_FLOATS = 160;

/**
 * The largest of `allowed` chunks (ascending) that still gives TARGET_WORKGROUPS workgroups over a
 * context of seqK, at `perSplit` workgroups per split; `fallback` when even the first does not.
 */
export function chunkForWorkgroups(allowed: readonly number[], perSplit: number, seqK: number, fallback: number): number {
  let chosen = fallback;
  for (const chunk of allowed) if (perSplit * Math.ceil(seqK / chunk) >= TARGET_WORKGROUPS) chosen = chunk;
  return chosen;
}

/** Partial results: one per output row (b, h, i) and split. */
export function partialCount(s: DecodeStepShape, t: { readonly chunk: number }): number {
  return s.batch * s.heads * s.seqQ * Math.ceil(s.seqK / t.chunk);
}

/** The scratch of `count` partials of `width` output columns: the unnormalized outputs, and each one's max and sum. */
export function partialScratch(count: number, width: number): ScratchBuffer[] {
  return [
    { name: 'partial outputs', bytes: count * width * 4 },
    { name: 'partial max and sum', bytes: count * 8 },
  ];
}

/** The merge pass over rows of `width` output columns: slices of the splits, width/4 column vectors each. */
export function mergeLayout(width: number): { mergeSlices: number; mergeThreads: number } {
  const mergeSlices = Math.max(1, Math.floor(128 / (width / 4)));
  return { mergeSlices, mergeThreads: mergeSlices * (width / 4) };
}

/** The merge shader (partial layout: row (b·heads + h)·Nq + i, then split) over `width` output columns. */
export function splitMergeShaderCode(width: number, chunk: number): string {
  return specialize(composeShader([paramsSource, mergeSource]), { HEAD_DIM: width, CHUNK: chunk, SLICES: mergeLayout(width).mergeSlices });
}

/** The split and merge pipelines' compile time, cache state and code, as a prepared kernel reports them. */
export function pipelinesReport(pipelines: readonly CompiledPipeline[]): Pick<PreparedKernel, 'compileMs' | 'cached' | 'shaders'> {
  return {
    compileMs: Math.max(...pipelines.map((p) => (p.cached ? 0 : p.compileMs))),
    cached: pipelines.every((p) => p.cached),
    shaders: pipelines.map((p) => ({ label: p.label, code: p.code })),
  };
}

/** The partial buffers of `count` partials of `width` columns, labelled "<prefix> partial …". */
export function createPartialBuffers(device: GPUDevice, prefix: string, count: number, width: number): { partO: GPUBuffer; partMl: GPUBuffer } {
  const usage = GPUBufferUsage.STORAGE;
  return {
    partO: device.createBuffer({ label: `${prefix} partial outputs`, size: Math.max(16, count * width * 4), usage }),
    partMl: device.createBuffer({ label: `${prefix} partial max and sum`, size: Math.max(16, count * 8), usage }),
  };
}

/** Records one dispatch of `pipeline` with bind group 0 over `grid` workgroups. */
export function dispatchPass(pipeline: GPUComputePipeline, group: GPUBindGroup, grid: readonly number[]): (pass: GPUComputePassEncoder) => void {
  return (pass) => {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(...(grid as [number, number?, number?]));
  };
}

/** The workgroup size against the device's invocation and x-size limits. */
export function workgroupSizeProblems(caps: DeviceCaps, wg: number): ConfigProblem[] {
  return [
    ...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', wg, `Workgroup size ${wg}`),
    ...overLimit(caps, 'maxComputeWorkgroupSizeX', wg, `Workgroup size ${wg}`),
  ];
}

/** Refuses a register footprint past MAX_REGISTER_FLOATS; `what` says what needs them ("… need"). */
export function registerProblems(registerFloats: number, what: string): ConfigProblem[] {
  if (registerFloats <= MAX_REGISTER_FLOATS) return [];
  return [
    ruleProblem(
      'registers per invocation',
      registerFloats,
      MAX_REGISTER_FLOATS,
      `${what} need ${registerFloats} registers per invocation, over ${MAX_REGISTER_FLOATS} (it would spill)`,
    ),
  ];
}

/** The split pass's x dimension (splits × row tiles) against the per-dimension workgroup limit. */
export function splitGridProblems(caps: DeviceCaps, splits: number, rowTiles: number): ConfigProblem[] {
  return overLimit(caps, 'maxComputeWorkgroupsPerDimension', splits * rowTiles, `${splits} splits × ${rowTiles} row tiles`);
}

/** The merge's one workgroup per output row against what a 2-D grid holds. */
export function mergeGridProblems(caps: DeviceCaps, outputRows: number): ConfigProblem[] {
  const maxGroups = caps.limits.maxComputeWorkgroupsPerDimension;
  if (outputRows <= maxGroups * maxGroups) return [];
  return [
    ruleProblem('maxComputeWorkgroupsPerDimension', outputRows, maxGroups * maxGroups, `the merge needs ${outputRows} workgroups, more than a 2-D grid holds`),
  ];
}

/** A buffer of `bytes` against the storage binding and buffer size limits. */
export function bufferProblems(caps: DeviceCaps, bytes: number, what: string): ConfigProblem[] {
  return [...overLimit(caps, 'maxStorageBufferBindingSize', bytes, what), ...overLimit(caps, 'maxBufferSize', bytes, what)];
}
