import { F32_TOLERANCE } from '../../../harness/compare.js';
import type { KernelDescriptor } from '../../types.js';
import { bindBlock, createParamsBuffer } from '../params.js';
import { topkAttendProblem } from '../problems.js';
import type { TopkShape } from '../shape.js';
import { describePipelines } from '../stage-kernel.js';
import { ATTEND_TUNABLES, type AttendTiles, attendBytes, attendGrid, attendProblems, compileAttend, defaultAttendTiles } from './stage.js';

/** Attention over given selected keys: gathered K/V rows shared by the heads of a query. */
export const topkAttendKernel: KernelDescriptor<TopkShape, AttendTiles> = {
  name: 'topk-attend',
  title: 'Top-k: attention over selected keys (gather, online softmax)',
  description:
    'One workgroup per (query, heads of one KV head): each selected K and V row is gathered once (vec4 loads, register-prefetched a chunk ahead) into workgroup memory and used by every head; online softmax in f32.',
  problem: topkAttendProblem,
  tunables: ATTEND_TUNABLES,
  requiredFeatures: [],
  precision: 'f32',
  tolerance: F32_TOLERANCE,
  conformance: [
    { fixed: {}, tiles: [{ hpw: 1, tk: 16 }] },
    // DSA's MQA shape: 16 heads share each gathered row; chunks of 32, wider than most
    // selections here (−1 slots); several scores, gathered vec4 and output slots per invocation
    // (SPT 4, GPT 4, OPT 2 at d = 64).
    { fixed: { heads: 16, kvHeads: 1, headDim: 64 }, tiles: [{ hpw: 16, tk: 32 }] },
    // GQA: two KV heads of four query heads, d = 20 (D4 = 5, not a divisor of the 128 invocations).
    { fixed: { heads: 8, kvHeads: 2, headDim: 20 }, tiles: [{ hpw: 4, tk: 16 }] },
  ],
  defaultTiles: defaultAttendTiles,
  check: attendProblems,
  bytesMoved: attendBytes,
  scratch: () => [],
  async prepare(device, s, tiles, caps) {
    const attend = await compileAttend(device, s, tiles);
    return {
      ...describePipelines([attend]),
      bind(tensors) {
        const params = createParamsBuffer(device, s, [{ rows: s.seqK, queryStart: 0, outRowStart: 0, outRows: s.seqK }]);
        const group = bindBlock(device, 'topk attend', attend.layout, params, 0, [tensors.q!, tensors.k!, tensors.v!, tensors.indices!, tensors.o!]);
        const grid = attendGrid(s, tiles, caps);
        return {
          encode(pass) {
            pass.setPipeline(attend.pipeline);
            pass.setBindGroup(0, group);
            pass.dispatchWorkgroups(...grid);
          },
          destroy: () => params.destroy(),
        };
      },
    };
  },
};
