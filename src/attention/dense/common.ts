import type { DeviceCaps } from '../../gpu/caps.js';
import { overLimit } from '../common.js';
import type { ConfigProblem } from '../types.js';
import { type ResolvedShape, tensorSizes } from './shape.js';

/** Problems shared by every kernel: the size of the Q/K/V/O bindings. */
export function tensorProblems(s: ResolvedShape, caps: DeviceCaps): ConfigProblem[] {
  const sizes = tensorSizes(s);
  return [
    ...overLimit(caps, 'maxStorageBufferBindingSize', sizes.q * 4, 'Q (and O)'),
    ...overLimit(caps, 'maxStorageBufferBindingSize', sizes.k * 4, 'K (and V)'),
    ...overLimit(caps, 'maxBufferSize', Math.max(sizes.q, sizes.k) * 4, 'the largest tensor buffer'),
  ];
}

/**
 * Problems of a flash kernel's grid (one workgroup per query tile of `rowsPerTile` rows, head and
 * batch) and of its four storage bindings (Q, K, V, O).
 */
export function flashGridProblems(s: ResolvedShape, rowsPerTile: number, caps: DeviceCaps): ConfigProblem[] {
  const queryTiles = Math.ceil(s.seqQ / rowsPerTile);
  const problems = [
    ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', queryTiles, `ceil(seqQ / Br) = ${queryTiles} query tiles`),
    ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.heads, `heads = ${s.heads}`),
    ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.batch, `batch = ${s.batch}`),
  ];
  if (caps.limits.maxStorageBuffersPerShaderStage < 4) {
    problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 4, 'Q, K, V and O'));
  }
  return problems;
}
