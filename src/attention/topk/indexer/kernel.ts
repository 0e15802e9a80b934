import { F32_TOLERANCE } from '../../../harness/compare.js';
import type { KernelDescriptor } from '../../types.js';
import { bindBlock, createParamsBuffer } from '../params.js';
import { topkIndexProblem } from '../problems.js';
import { type TopkShape, firstQuery } from '../shape.js';
import { describePipelines } from '../stage-kernel.js';
import { compileIndexer, indexerBytes, indexerGrid, indexerProblems } from './stage.js';

/** The lightning indexer alone: the scores of the last queryRows queries against every key. */
export const topkIndexKernel: KernelDescriptor<TopkShape, Record<string, never>> = {
  name: 'topk-index',
  title: 'Top-k: lightning indexer (f32, 64 × 64 register tiles)',
  description: 'Σₕ w·ReLU(qᴵ·kᴵ) as a register-tiled GEMM with the ReLU-weighted head reduction in its epilogue; tiles past the diagonal write the mask only.',
  problem: topkIndexProblem,
  tunables: [],
  requiredFeatures: [],
  precision: 'f32',
  tolerance: F32_TOLERANCE,
  conformance: [{ fixed: {}, tiles: [{}] }],
  defaultTiles: () => ({}),
  check: (s, _tiles, caps) => indexerProblems(s, s.queryRows, s.seqK, s.batch * s.queryRows * s.seqK * 4, caps),
  bytesMoved: (s) => indexerBytes(s, s.queryRows, s.seqK),
  scratch: () => [],
  async prepare(device, s) {
    const indexer = await compileIndexer(device);
    return {
      ...describePipelines([indexer]),
      bind(tensors) {
        const params = createParamsBuffer(device, s, [{ rows: s.queryRows, queryStart: firstQuery(s), outRowStart: 0, outRows: s.queryRows }]);
        const group = bindBlock(device, 'topk indexer', indexer.layout, params, 0, [tensors.indexQ!, tensors.indexK!, tensors.indexW!, tensors.scores!]);
        const grid = indexerGrid(s, s.queryRows, s.seqK);
        return {
          encode(pass) {
            pass.setPipeline(indexer.pipeline);
            pass.setBindGroup(0, group);
            pass.dispatchWorkgroups(...grid);
          },
          destroy: () => params.destroy(),
        };
      },
    };
  },
};
