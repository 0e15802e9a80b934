import type { DeviceCaps } from '../../../gpu/caps.js';
import { type CompiledPipeline, compilePipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import { unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem } from '../../common.js';
import type { ConfigProblem } from '../../types.js';
import params from '../params.wgsl?raw';
import type { TopkShape } from '../shape.js';
import source from './indexer.wgsl?raw';

/** Queries and keys per workgroup tile (indexer.wgsl's TILE), and index dims per workgroup-memory chunk (DC). */
export const INDEX_TILE = 64;
const INDEX_CHUNK = 16;
const INVOCATIONS = 256;
/** Q and K chunks in workgroup memory: 2 × DC × TILE floats. */
export const INDEXER_WORKGROUP_BYTES = 2 * INDEX_CHUNK * INDEX_TILE * 4;

export function indexerShader(): string {
  return unrollLoops(composeShader([params, source]), { DC: INDEX_CHUNK });
}

export function compileIndexer(device: GPUDevice): Promise<CompiledPipeline> {
  return compilePipeline(device, {
    label: 'topk indexer',
    code: indexerShader(),
    bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
  });
}

/** Workgroups of one indexer dispatch: key tiles over `keys` keys, query tiles over `rows` rows, batch. */
export function indexerGrid(s: TopkShape, rows: number, keys: number): [number, number, number] {
  return [Math.ceil(keys / INDEX_TILE), Math.ceil(rows / INDEX_TILE), s.batch];
}

/** What keeps the indexer from running on a device: its grid for `rows` × `keys` scores, its bindings, its invocations. */
export function indexerProblems(s: TopkShape, rows: number, keys: number, scoreBytes: number, caps: DeviceCaps): ConfigProblem[] {
  const [x, y, z] = indexerGrid(s, rows, keys);
  const problems = [
    ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', x, `the indexer's ceil(N / ${INDEX_TILE}) = ${x} key tiles`),
    ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', y, `the indexer's ceil(rows / ${INDEX_TILE}) = ${y} query tiles`),
    ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', z, `batch = ${z}`),
    ...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', INVOCATIONS, 'the indexer (16 × 16 invocations)'),
    ...overLimit(caps, 'maxComputeWorkgroupStorageSize', INDEXER_WORKGROUP_BYTES, 'the indexer (Q and K chunks)'),
    ...overLimit(caps, 'maxStorageBufferBindingSize', s.batch * s.seqK * s.indexHeads * s.indexDim * 4, 'indexQ'),
    ...overLimit(caps, 'maxStorageBufferBindingSize', scoreBytes, 'the index scores'),
    ...overLimit(caps, 'maxBufferSize', scoreBytes, 'the index scores'),
  ];
  if (caps.limits.maxStorageBuffersPerShaderStage < 4) {
    problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 4, 'the indexer (indexQ, indexK, indexW, scores)'));
  }
  if (s.batch * s.seqK * s.indexHeads * s.indexDim >= 2 ** 32) {
    problems.push(
      ruleProblem('u32 element offsets', s.batch * s.seqK * s.indexHeads * s.indexDim, 2 ** 32 - 1, 'indexQ has more elements than a u32 offset reaches'),
    );
  }
  return problems;
}

/**
 * Global traffic of the indexer over `rows` queries against `keys` keys: each
 * 64 × 64 tile reads its Q rows (indexHeads·indexDim each) and its K rows (indexDim each, once per
 * index head, from L2 after the first) and writes its scores; past-diagonal scores of the stage
 * problem are writes only.
 */
export function indexerBytes(s: TopkShape, rows: number, keys: number): number {
  const [x, y] = indexerGrid(s, rows, keys);
  const tiles = x * y * s.batch;
  const qBytes = INDEX_TILE * s.indexHeads * (s.indexDim + 1) * 4;
  const kBytes = INDEX_TILE * s.indexDim * 4;
  return tiles * (qBytes + kBytes) + s.batch * rows * keys * 4;
}
