import type { DeviceCaps } from '../../../gpu/caps.js';
import { type CompiledPipeline, compilePipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import radixSelect from '../../../wgsl/radix_select.wgsl?raw';
import { overLimit, ruleProblem, spreadGrid } from '../../common.js';
import type { ConfigProblem } from '../../types.js';
import params from '../params.wgsl?raw';
import type { TopkShape } from '../shape.js';
import source from './select.wgsl?raw';

const INVOCATIONS = 256;
/** 2048 histogram bins and a 256-entry scan, plus two words. */
export const SELECT_WORKGROUP_BYTES = 2048 * 4 + INVOCATIONS * 4 + 8;

export function compileSelect(device: GPUDevice): Promise<CompiledPipeline> {
  return compilePipeline(device, {
    label: 'topk select',
    code: composeShader([params, radixSelect, source]),
    bindings: ['uniform', 'read-only-storage', 'storage'],
  });
}

/** One workgroup per (query row, batch element), spread over x and y. */
export function selectGrid(s: TopkShape, rows: number, caps: DeviceCaps): [number, number] {
  return spreadGrid(rows * s.batch, caps.limits.maxComputeWorkgroupsPerDimension);
}

export function selectProblems(s: TopkShape, rows: number, caps: DeviceCaps): ConfigProblem[] {
  const max = caps.limits.maxComputeWorkgroupsPerDimension;
  const problems = [
    ...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', INVOCATIONS, 'the selection'),
    ...overLimit(caps, 'maxComputeWorkgroupSizeX', INVOCATIONS, 'the selection'),
    ...overLimit(caps, 'maxComputeWorkgroupStorageSize', SELECT_WORKGROUP_BYTES, 'the selection (radix histogram and scan)'),
    ...overLimit(caps, 'maxStorageBufferBindingSize', s.batch * s.seqK * s.topK * 4, 'the selected indices'),
  ];
  if (rows * s.batch > max * max) {
    problems.push(
      ruleProblem(
        'maxComputeWorkgroupsPerDimension²',
        rows * s.batch,
        max * max,
        `the selection's one workgroup per query row (${rows} rows × batch ${s.batch}) is more than a 2-D grid holds`,
      ),
    );
  }
  return problems;
}

/**
 * Global traffic of selecting rows [first, first + rows): up to three radix passes (fewer when the
 * threshold's bin is taken whole) and a compaction pass each read the candidate scores (i + 1 per
 * query), and the indices are written once. Counted at the worst case, four reads.
 */
export function selectBytes(s: TopkShape, first: number, rows: number): number {
  let candidates = 0;
  for (let i = first; i < first + rows; i++) candidates += i + 1 > s.topK ? 4 * (i + 1) : 0;
  return s.batch * (candidates * 4 + rows * s.topK * 4);
}
