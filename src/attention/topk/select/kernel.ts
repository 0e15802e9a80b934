import type { KernelDescriptor } from '../../types.js';
import { bindBlock, createParamsBuffer } from '../params.js';
import { topkSelectProblem } from '../problems.js';
import { type TopkShape, firstQuery } from '../shape.js';
import { EXACT_INDEX_TOLERANCE, describePipelines } from '../stage-kernel.js';
import { compileSelect, selectBytes, selectGrid, selectProblems } from './stage.js';

/** Top-k selection alone: radix select over the score bits, then an ordered compaction. */
export const topkSelectKernel: KernelDescriptor<TopkShape, Record<string, never>> = {
  name: 'topk-select',
  title: 'Top-k: selection (radix select, one workgroup per query)',
  description:
    'Three 11/11/10-bit radix histogram passes find the k-th largest score; one compaction pass in key order writes the selected keys sorted, ties to the lower index.',
  problem: topkSelectProblem,
  tunables: [],
  requiredFeatures: [],
  precision: 'f32',
  tolerance: EXACT_INDEX_TOLERANCE,
  conformance: [{ fixed: {}, tiles: [{}] }],
  defaultTiles: () => ({}),
  check: (s, _tiles, caps) => [...selectProblems(s, s.queryRows, caps)],
  bytesMoved: (s) => selectBytes(s, firstQuery(s), s.queryRows),
  scratch: () => [],
  async prepare(device, s, _tiles, caps) {
    const select = await compileSelect(device);
    return {
      ...describePipelines([select]),
      bind(tensors) {
        const params = createParamsBuffer(device, s, [{ rows: s.queryRows, queryStart: firstQuery(s), outRowStart: 0, outRows: s.queryRows }]);
        const group = bindBlock(device, 'topk select', select.layout, params, 0, [tensors.scores!, tensors.indices!]);
        const grid = selectGrid(s, s.queryRows, caps);
        return {
          encode(pass) {
            pass.setPipeline(select.pipeline);
            pass.setBindGroup(0, group);
            pass.dispatchWorkgroups(...grid);
          },
          destroy: () => params.destroy(),
        };
      },
    };
  },
};
