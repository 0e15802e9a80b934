import type { DeviceCaps } from '../../../gpu/caps.js';
import { ruleProblem } from '../../common.js';
import type { ConfigProblem, KernelDescriptor } from '../../types.js';
import { ATTEND_TUNABLES, type AttendTiles, attendBytes, attendGrid, attendProblems, compileAttend, defaultAttendTiles } from '../attend/stage.js';
import { compileIndexer, indexerBytes, indexerGrid, indexerProblems } from '../indexer/stage.js';
import { type BlockParams, bindBlock, createParamsBuffer } from '../params.js';
import { topkProblem } from '../problems.js';
import { compileSelect, selectBytes, selectGrid, selectProblems } from '../select/stage.js';
import type { TopkShape } from '../shape.js';
import { EXACT_INDEX_TOLERANCE, describePipelines } from '../stage-kernel.js';

export type PipelineTiles = AttendTiles & { readonly blockRows: number };

const BLOCK_ROWS = [64, 128, 256, 512, 1024, 2048, 4096, 8192] as const;
/** The score scratch stays within this, whatever the device allows: the block should stay in L2-sized reach. */
const SCRATCH_CAP = 256 * 2 ** 20;

/** The score scratch: one block of queries × every key, per batch element. */
export function scratchBytes(s: TopkShape, blockRows: number): number {
  return s.batch * Math.min(blockRows, s.seqK) * s.seqK * 4;
}

/** Query blocks [start, start + rows) of the pipeline. */
export function queryBlocks(s: TopkShape, blockRows: number): BlockParams[] {
  const blocks: BlockParams[] = [];
  for (let start = 0; start < s.seqK; start += blockRows) {
    blocks.push({ rows: Math.min(blockRows, s.seqK - start), queryStart: start, outRowStart: start, outRows: s.seqK });
  }
  return blocks;
}

/** The smallest block that covers N in one go when the scratch allows, else the largest that fits. */
function defaultBlockRows(s: TopkShape, caps: DeviceCaps): number {
  const cap = Math.min(SCRATCH_CAP, caps.limits.maxStorageBufferBindingSize, caps.limits.maxBufferSize);
  const fitting = BLOCK_ROWS.filter((rows) => scratchBytes(s, rows) <= cap);
  return fitting.find((rows) => rows >= s.seqK) ?? fitting.at(-1) ?? BLOCK_ROWS[0];
}

/**
 * The whole of DSA as three dispatches per query block and one at the end: the indexer writes the
 * block's scores against its causal keys into a scratch of blockRows × N floats, the selection
 * turns them into the block's rows of `indices`, and after the last block the attention gathers
 * the selected keys. N × N scores never exist: the scratch is reused block after block.
 */
export const topkPipelineKernel: KernelDescriptor<TopkShape, PipelineTiles> = {
  name: 'topk-pipeline',
  title: 'Top-k sparse attention: indexer → selection → attention',
  description:
    'Per block of queries: indexer scores into a bounded scratch (blockRows × N), radix top-k selection into the indices; then attention over the selected keys.',
  problem: topkProblem,
  tunables: [
    {
      key: 'blockRows',
      label: 'Query block',
      help: 'Queries scored and selected per block: the score scratch holds blockRows × N floats.',
      values: BLOCK_ROWS,
    },
    ...ATTEND_TUNABLES,
  ],
  searchSpace: { blockRows: BLOCK_ROWS, hpw: [1, 2, 4, 8, 16], tk: [8, 16, 32] },
  requiredFeatures: [],
  precision: 'f32',
  tolerance: EXACT_INDEX_TOLERANCE,
  conformance: [
    { fixed: {}, tiles: [{ blockRows: 64, hpw: 1, tk: 16 }] },
    { fixed: { heads: 4, kvHeads: 2 }, tiles: [{ blockRows: 128, hpw: 2, tk: 8 }] },
  ],
  defaultTiles: (s, caps) => ({ blockRows: defaultBlockRows(s, caps), ...defaultAttendTiles(s, caps) }),
  check(s, tiles, caps) {
    const rows = Math.min(tiles.blockRows, s.seqK);
    const problems: ConfigProblem[] = [
      ...indexerProblems(s, rows, s.seqK, scratchBytes(s, tiles.blockRows), caps),
      ...selectProblems(s, rows, caps),
      ...attendProblems(s, tiles, caps),
    ];
    const blocks = Math.ceil(s.seqK / tiles.blockRows);
    if (blocks > 4096) {
      problems.push(
        ruleProblem(
          'query blocks',
          blocks,
          4096,
          `blockRows = ${tiles.blockRows} cuts N = ${s.seqK} into ${blocks} blocks (two dispatches each); at most 4096`,
        ),
      );
    }
    return problems;
  },
  bytesMoved(s, tiles) {
    let bytes = attendBytes(s, tiles);
    for (const block of queryBlocks(s, tiles.blockRows)) {
      // The indexer writes the block's scores and the selection reads them back: through L2 when the scratch fits there.
      bytes += indexerBytes(s, block.rows, block.queryStart + block.rows) + selectBytes(s, block.queryStart, block.rows);
    }
    return bytes;
  },
  scratch: (s, tiles) => [{ name: 'index scores of one query block', bytes: scratchBytes(s, tiles.blockRows) }],
  async prepare(device, s, tiles, caps) {
    const [indexer, select, attend] = await Promise.all([compileIndexer(device), compileSelect(device), compileAttend(device, s, tiles)]);
    return {
      ...describePipelines([indexer, select, attend]),
      bind(t) {
        const blocks = queryBlocks(s, tiles.blockRows);
        const all: BlockParams = { rows: s.seqK, queryStart: 0, outRowStart: 0, outRows: s.seqK };
        const params = createParamsBuffer(device, s, [...blocks, all]);
        const scratch = device.createBuffer({
          label: 'topk index scores',
          size: Math.max(16, scratchBytes(s, tiles.blockRows)),
          usage: GPUBufferUsage.STORAGE,
        });
        const steps = blocks.map((block, n) => ({
          indexGroup: bindBlock(device, `topk indexer block ${n}`, indexer.layout, params, n, [t.indexQ!, t.indexK!, t.indexW!, scratch]),
          selectGroup: bindBlock(device, `topk select block ${n}`, select.layout, params, n, [scratch, t.indices!]),
          // Causal: the block's last query sees keys up to its own index.
          indexGrid: indexerGrid(s, block.rows, block.queryStart + block.rows),
          selectGrid: selectGrid(s, block.rows, caps),
        }));
        const attendGroup = bindBlock(device, 'topk attend', attend.layout, params, blocks.length, [t.q!, t.k!, t.v!, t.indices!, t.o!]);
        const grid = attendGrid(s, tiles, caps);
        type Step = (typeof steps)[number];
        const indexStep = (pass: GPUComputePassEncoder, step: Step) => {
          pass.setPipeline(indexer.pipeline);
          pass.setBindGroup(0, step.indexGroup);
          pass.dispatchWorkgroups(...step.indexGrid);
        };
        const selectStep = (pass: GPUComputePassEncoder, step: Step) => {
          pass.setPipeline(select.pipeline);
          pass.setBindGroup(0, step.selectGroup);
          pass.dispatchWorkgroups(...step.selectGrid);
        };
        const attendAll = (pass: GPUComputePassEncoder) => {
          pass.setPipeline(attend.pipeline);
          pass.setBindGroup(0, attendGroup);
          pass.dispatchWorkgroups(...grid);
        };
        return {
          encode(pass) {
            for (const step of steps) {
              indexStep(pass, step);
              selectStep(pass, step);
            }
            attendAll(pass);
          },
          // Timed alone, a stage repeats its dispatches over the whole query range: the selection
          // then reads the last block's scores for every block, the same work on real data.
          stages: [
            { name: 'index', encode: (pass) => steps.forEach((step) => indexStep(pass, step)) },
            { name: 'select', encode: (pass) => steps.forEach((step) => selectStep(pass, step)) },
            { name: 'attend', encode: attendAll },
          ],
          destroy() {
            params.destroy();
            scratch.destroy();
          },
        };
      },
    };
  },
};
