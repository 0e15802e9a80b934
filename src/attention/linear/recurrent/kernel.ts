import { F16_TOLERANCE, F32_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps } from '../../../gpu/caps.js';
import { bindBuffers, compilePipeline } from '../../../gpu/pipelines.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, tilesLabel } from '../../common.js';
import type { ConfigProblem, KernelDescriptor } from '../../types.js';
import { LINEAR_BINDING_KINDS, createSeqParams, linearBindings, linearProblems, withStorage } from '../common.js';
import { linearProblem } from '../problem.js';
import type { LinearShape } from '../shape.js';
import source from './recurrent.wgsl?raw';

export type RecurrentTiles = {
  /** Value columns per workgroup. */
  readonly cols: number;
  /** Invocations per column, each holding ⌈d_k/split⌉ state rows in registers. */
  readonly split: number;
};

/** Most state rows one invocation keeps in registers (with the matching k values: twice this). */
export const RECURRENT_MAX_ROWS = 64;
/** Partial sums per invocation in workgroup memory (two slots each). */
const PARTIALS = 5;

export function recurrentGeometry(s: LinearShape, tiles: RecurrentTiles) {
  const wg = tiles.cols * tiles.split;
  return { wg, rows: Math.ceil(s.dk / tiles.split), colTiles: Math.ceil(s.dv / tiles.cols), workgroupBytes: 2 * PARTIALS * wg * 4 };
}

export function recurrentShader(s: LinearShape, tiles: RecurrentTiles): string {
  const geo = recurrentGeometry(s, tiles);
  const code = specialize(source, {
    DK: s.dk,
    DV: s.dv,
    COLS: tiles.cols,
    SPLIT: tiles.split,
    ROWS: geo.rows,
    WG: geo.wg,
    DELTA: s.rule === 'delta',
    SCALE: s.scale,
    QK_GROUP: s.heads / s.qkHeads,
  });
  return withStorage(unrollLoops(code, { ROWS: geo.rows, SPLIT: tiles.split }), s.storage);
}

function makeRecurrent(storage: 'f32' | 'f16'): KernelDescriptor<LinearShape, RecurrentTiles> {
  const f16 = storage === 'f16';
  const name = f16 ? 'linear-recurrent-f16' : 'linear-recurrent';
  const kernel: KernelDescriptor<LinearShape, RecurrentTiles> = {
    name,
    problem: linearProblem,
    title: `Recurrent, one token at a time${f16 ? ' (f16 storage)' : ''}`,
    description:
      'The state stays in registers (a workgroup per head and tile of value columns); per token one workgroup reduction of the state’s dot products with k and q. The decode step at T = 1.',
    tunables: [
      {
        key: 'cols',
        label: 'Value columns',
        help: 'State columns per workgroup: more workgroups when small, longer coalesced runs when large.',
        values: [8, 16, 32, 64, 128],
      },
      {
        key: 'split',
        label: 'Threads per column',
        help: 'Invocations sharing one state column, each with ⌈d_k/split⌉ rows in registers; their partial sums meet in workgroup memory.',
        values: [1, 2, 4, 8, 16, 32],
      },
    ],
    requiredFeatures: f16 ? ['shader-f16'] : [],
    precision: storage,
    // f32: T sequential rank-1 updates in f32 stay ~1e-6 relative (the tests bound the RMS at 1e-5).
    // f16: inputs and o rounded to half: fla's bf16 bound (5e-3 relative RMS) with element slack.
    tolerance: f16 ? F16_TOLERANCE : F32_TOLERANCE,
    conformance: [
      {
        fixed: { storage },
        tiles: [
          { cols: 32, split: 4 },
          { cols: 8, split: 1 },
          { cols: 16, split: 8 },
        ],
      },
      { fixed: { storage, dk: 64, dv: 64 }, tiles: [{ cols: 32, split: 8 }] },
    ],

    defaultTiles(s, caps) {
      const cols = Math.min(32, Math.max(8, 2 ** Math.ceil(Math.log2(s.dv))));
      for (const split of [8, 4, 2, 1]) {
        const tiles = { cols, split };
        if (kernel.check(s, tiles, caps).length === 0) return tiles;
      }
      return { cols, split: 8 };
    },

    check(s, tiles, caps) {
      const geo = recurrentGeometry(s, tiles);
      const problems: ConfigProblem[] = linearProblems(s, caps, storage, name, s.batch * s.heads);
      problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', geo.wg, `cols × split = ${tiles.cols} × ${tiles.split}`));
      problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', geo.wg, `cols × split = ${tiles.cols} × ${tiles.split}`));
      problems.push(...overLimit(caps, 'maxComputeWorkgroupStorageSize', geo.workgroupBytes, `the partial sums (2 × ${PARTIALS} × ${geo.wg} floats)`));
      problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', geo.colTiles, `column tiles ⌈d_v/cols⌉`));
      if (geo.rows > RECURRENT_MAX_ROWS) {
        problems.push(
          ruleProblem(
            'state rows per invocation',
            geo.rows,
            RECURRENT_MAX_ROWS,
            `each invocation would hold ⌈d_k/split⌉ = ${geo.rows} state rows (and as many k values) in registers, over ${RECURRENT_MAX_ROWS}: raise split`,
          ),
        );
      }
      return problems;
    },

    bytesMoved(s, tiles) {
      // The state once in and once out; every workgroup of a head reads that head's q and k (L2
      // serves the repeats, and GVA's value heads sharing them, only partly, so they count), each v
      // column and o column once.
      const e = f16 ? 2 : 4;
      const { colTiles } = recurrentGeometry(s, tiles);
      const bh = s.batch * s.heads;
      const perToken = colTiles * (2 * s.dk + 1 + (s.rule === 'delta' ? 1 : 0)) + 2 * s.dv;
      return bh * (2 * s.dk * s.dv * 4 + s.seqK * perToken * e);
    },

    scratch() {
      return [];
    },

    async prepare(device, s, tiles, _caps: DeviceCaps) {
      const geo = recurrentGeometry(s, tiles);
      const compiled = await compilePipeline(device, {
        label: `${name} ${tilesLabel(tiles)} dk=${s.dk} dv=${s.dv} ${s.rule}`,
        code: recurrentShader(s, tiles),
        bindings: LINEAR_BINDING_KINDS,
      });
      return {
        compileMs: compiled.cached ? 0 : compiled.compileMs,
        cached: compiled.cached,
        shaders: [{ label: compiled.label, code: compiled.code }],
        bind(tensors) {
          const params = createSeqParams(device, s);
          const group = bindBuffers(device, name, compiled.layout, linearBindings(params, tensors));
          return {
            encode(pass) {
              pass.setPipeline(compiled.pipeline);
              pass.setBindGroup(0, group);
              pass.dispatchWorkgroups(geo.colTiles, s.batch * s.heads);
            },
            destroy() {
              params.destroy();
            },
          };
        },
      };
    },
  };
  return kernel;
}

export const recurrentKernel = makeRecurrent('f32');
export const recurrentF16Kernel = makeRecurrent('f16');
