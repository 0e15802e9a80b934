import { F16_TOLERANCE, F32_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps } from '../../../gpu/caps.js';
import { composeShader } from '../../../wgsl/compose.js';
import { resolveIfBlocks } from '../../../wgsl/conditional.js';
import flashGlobal from '../flash_global.wgsl?raw';
import params from '../params.wgsl?raw';
import flashSource from './flash.wgsl?raw';
import maskCausal from './mask_causal.wgsl?raw';
import rowReduceSubgroup from './row_reduce_subgroup.wgsl?raw';
import rowReduceWorkgroup from './row_reduce_workgroup.wgsl?raw';
import scatterSubgroup from './scatter_subgroup.wgsl?raw';
import scatterWorkgroup from './scatter_workgroup.wgsl?raw';
import { type ResolvedShape, tensorSizes } from '../shape.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, tilesLabel } from '../../common.js';
import type { ConfigProblem, KernelDescriptor, ScratchBuffer, Tunable } from '../../types.js';
import { flashGridProblems, tensorProblems } from '../common.js';
import { denseProblem } from '../problem.js';
import { prepareFlashPipeline } from './prepare.js';

/** Largest per-invocation register tile (scores + output accumulators, in floats) we let compile. */
export const FLASH_MAX_REGISTER_FLOATS = 256;

/** A flash configuration (see TUNABLES). */
export type FlashTiles = {
  readonly br: number;
  readonly bc: number;
  readonly wg: number;
  readonly rowThreads: number;
  readonly subgroups: number;
  readonly unroll: number;
  readonly prefetch: number;
};

/** What differs between the f32 and f16 flash kernels; everything else is shared. */
export interface FlashVariant {
  name: string;
  title: string;
  description: string;
  precision: 'f32' | 'f16';
  /** Values per 16-byte vector in the tiles: 4 f32 or 8 f16. */
  lanes: 4 | 8;
  /** Measured defaults by head dim (see PREFERRED below). */
  preferred: Record<number, Omit<FlashTiles, 'subgroups'>[]>;
}

/** Quantities derived from a flash configuration; the shader derives the same ones. */
export interface FlashGeometry {
  rowThreads: number;
  rowGroups: number;
  /** Query rows per invocation. */
  tm: number;
  /** Keys per invocation per tile. */
  tn: number;
  /** Head-dim vectors (of `lanes` values) per row, and per invocation of the output. */
  dv: number;
  tdv: number;
  workgroupBytes: number;
  registerFloats: number;
  reduction: 'subgroup' | 'workgroup' | 'none';
  /** Vectors of a K/V tile each invocation carries from global to workgroup memory. */
  stage: number;
  /** Unroll factor of the key loop of PV. */
  jUnroll: number;
}

const pad16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

export function flashGeometry(headDim: number, tiles: FlashTiles, lanes: 4 | 8 = 4): FlashGeometry {
  const { br, bc, wg, rowThreads, subgroups, prefetch, unroll } = tiles;
  const rowGroups = wg / rowThreads;
  const tm = br / rowGroups;
  const tn = bc / rowThreads;
  const dv = headDim / lanes;
  const tdv = dv / rowThreads;
  const tm4 = Math.ceil(tm / 4);
  const reduction = rowThreads === 1 ? 'none' : subgroups ? 'subgroup' : 'workgroup';
  const stage = Math.ceil((bc * dv) / wg);
  const outputs = tm * tdv * lanes;
  // kv_tile and the padded p_tile (a vector of four P values, f32 or f16, per key and row group),
  // plus row_partials and scatter_partials of the workgroup-memory reductions.
  const pVectorBytes = lanes === 4 ? 16 : 8;
  const pRow = rowGroups + pPadding(rowThreads, rowGroups, 128 / pVectorBytes);
  const scatterBytes = reduction === 'workgroup' ? pad16(br * rowThreads * 4) + pad16(wg * tm * rowThreads * 4) : 0;
  const workgroupBytes = pad16(bc * dv * 16) + pad16(bc * tm4 * pRow * pVectorBytes) + scatterBytes;
  // Registers: the Q slice (16-byte vectors), one chunk's f32 partial scores, the scores, the f32
  // output accumulators (f16 adds one tile's partial outputs) and the staged K/V.
  const registerFloats = tm * tdv * 4 + tm * rowThreads + tm * tn + outputs + (lanes === 8 ? tm + outputs / 2 : 0) + (prefetch ? 4 * stage : 0);
  return {
    rowThreads,
    rowGroups,
    tm,
    tn,
    dv,
    tdv,
    workgroupBytes,
    registerFloats,
    reduction,
    stage,
    jUnroll: Math.min(unroll ?? 1, bc),
  };
}

/**
 * P_PAD of the flash shaders: vectors added to each P row against bank conflicts on its stores,
 * for P vectors served `phase` lanes at a time (8 for 16-byte f32 vectors, 16 for 8-byte f16).
 */
export function pPadding(rowThreads: number, rowGroups: number, phase: number): number {
  if (rowThreads === 1) return 0;
  return rowThreads >= phase ? 1 + (rowGroups & 1) : phase / rowThreads;
}

/** Trip counts of the shaders' @unroll loops, as their own consts define them. */
export function unrollBounds(geo: FlashGeometry, lanes: 4 | 8 = 4): Record<string, number> {
  const common = {
    TM: geo.tm,
    TN: geo.tn,
    TM4: Math.ceil(geo.tm / 4),
    TMTN: geo.tm * geo.tn,
    TNTM4: geo.tn * Math.ceil(geo.tm / 4),
    ROW_THREADS: geo.rowThreads,
    PART: geo.tm * geo.rowThreads,
    SCATTER_STEPS: Math.log2(geo.rowThreads),
    SCATTER_HALF: geo.rowThreads / 2,
    STAGE: geo.stage,
    J_UNROLL: geo.jUnroll,
    TDV: geo.tdv,
    DSV: geo.tdv,
    TMDSV: geo.tm * geo.tdv,
  };
  return lanes === 4 ? common : { ...common, TDVX2: geo.tdv * 2, TDVX: geo.tm * geo.tdv * 2 };
}

const BR_VALUES = [4, 8, 16, 32, 64, 128, 256] as const;
const BC_VALUES = [4, 8, 16, 32, 64, 128] as const;
const WG_VALUES = [16, 32, 64, 128, 256, 512, 1024] as const;
const ROW_THREAD_VALUES = [1, 2, 4, 8, 16, 32] as const;

const TUNABLES: Tunable<keyof FlashTiles>[] = [
  {
    key: 'br',
    label: 'Query tile (Br)',
    help: 'Query rows per workgroup, kept in registers (split over each row’s threads) for the whole run.',
    values: BR_VALUES,
  },
  { key: 'bc', label: 'Key tile (Bc)', help: 'Key/value rows staged in workgroup memory per step.', values: BC_VALUES },
  { key: 'wg', label: 'Workgroup size', help: 'Invocations per workgroup.', values: WG_VALUES },
  {
    key: 'rowThreads',
    label: 'Threads per row',
    help: 'Invocations that share a query row: each takes Bc/this keys and d/this output columns; the row max and sum are reduced across them.',
    values: ROW_THREAD_VALUES,
  },
  {
    key: 'subgroups',
    label: 'Subgroup reductions',
    help: '1: reduce row max and sum with subgroup shuffles (needs the subgroups feature); 0: through workgroup memory.',
    values: [0, 1],
  },
  {
    key: 'unroll',
    label: 'Unroll',
    help: 'Unroll factor of the PV loop over keys (QKᵀ is always unrolled whole): more overlap of loads and math, more code.',
    values: [1, 2, 4, 8, 16, 32],
  },
  {
    key: 'prefetch',
    label: 'Prefetch K/V',
    help: '1: fetch each K/V tile into registers one phase ahead so global-memory latency overlaps arithmetic; 0: fetch right before use.',
    values: [0, 1],
  },
];

/**
 * What the autotuner searches. From the H100 sweeps (bench/results/): tiles under 16 rows,
 * workgroups under 64 or over 256 invocations and one-lane rows never came near the best (the
 * winners have 4 or 8 lanes per row and 128 or 256 rows per workgroup); prefetch won or tied
 * everywhere and subgroup shuffles are taken whenever the device allows them (both stay at the
 * device default). Every value stays available to set by hand.
 */
const SEARCH_SPACE: Partial<Record<keyof FlashTiles, readonly number[]>> = {
  br: [16, 32, 64, 128, 256],
  bc: [8, 16, 32, 64],
  wg: [64, 128, 256],
  rowThreads: [4, 8, 16],
  unroll: [1, 4, 16],
};

/** Tile configurations per head dim for the conformance matrix: several per dim, defaults first. */
const FLASH_CONFORMANCE_TILES: Record<number, Partial<FlashTiles>[]> = {
  32: [
    {},
    { br: 64, bc: 32, wg: 128, rowThreads: 4, subgroups: 1 },
    { br: 16, bc: 8, wg: 32, rowThreads: 2, subgroups: 0, prefetch: 0, unroll: 1 },
    { br: 8, bc: 16, wg: 16, rowThreads: 4, subgroups: 0, prefetch: 1, unroll: 8 },
    { br: 32, bc: 16, wg: 32, rowThreads: 1, subgroups: 0 },
  ],
  64: [
    {},
    { br: 32, bc: 16, wg: 64, rowThreads: 4, subgroups: 1 },
    { br: 32, bc: 16, wg: 64, rowThreads: 2, subgroups: 1, prefetch: 0, unroll: 2 },
    { br: 16, bc: 64, wg: 64, rowThreads: 8, subgroups: 0 },
    { br: 32, bc: 8, wg: 64, rowThreads: 4, subgroups: 0, prefetch: 1, unroll: 4 },
    // Eight rows per invocation: P is stored as two vectors per key.
    { br: 64, bc: 16, wg: 64, rowThreads: 8, subgroups: 0 },
  ],
  128: [
    {},
    { br: 16, bc: 16, wg: 64, rowThreads: 4, subgroups: 1 },
    { br: 8, bc: 8, wg: 32, rowThreads: 8, subgroups: 0, prefetch: 0, unroll: 32 },
    // Sixteen threads per row: a four-step reduce-scatter.
    { br: 8, bc: 16, wg: 32, rowThreads: 16, subgroups: 0 },
  ],
};

/** Builds the descriptor of a flash variant: tunables, checks and models are shared. */
export function makeFlashKernel(variant: FlashVariant): KernelDescriptor<ResolvedShape, FlashTiles> {
  const { lanes } = variant;
  const f16 = lanes === 8;
  const kernel: KernelDescriptor<ResolvedShape, FlashTiles> = {
    name: variant.name,
    problem: denseProblem,
    title: variant.title,
    description: variant.description,
    tunables: TUNABLES,
    searchSpace: SEARCH_SPACE,
    requiredFeatures: f16 ? ['shader-f16'] : [],
    precision: variant.precision,
    tolerance: f16 ? F16_TOLERANCE : F32_TOLERANCE,
    conformance: Object.entries(FLASH_CONFORMANCE_TILES).map(([headDim, tiles]) => ({ fixed: { headDim: Number(headDim) }, tiles })),

    defaultTiles(shape, caps) {
      const subgroups = canUseSubgroups(caps) ? 1 : 0;
      const candidates: FlashTiles[] = [
        ...(variant.preferred[shape.headDim] ?? variant.preferred[64] ?? []).map((t) => ({ ...t, subgroups })),
        ...fallbackCandidates(subgroups),
      ];
      for (const tiles of candidates) {
        const resolved = { ...tiles, subgroups: tiles.subgroups && tiles.rowThreads <= caps.subgroupMinSize ? 1 : 0 };
        if (kernel.check(shape, resolved, caps).length === 0) return resolved;
      }
      // Nothing fits (e.g. an odd head dim): return the first candidate so check() can say why.
      return candidates[0]!;
    },

    check(s, tiles, caps) {
      const problems: ConfigProblem[] = [...tensorProblems(s, caps)];
      const tensorCount = problems.length;
      const { br, bc, wg, rowThreads, subgroups } = tiles;
      if (s.headDim % lanes !== 0) {
        problems.push(
          ruleProblem(
            `headDim % ${lanes}`,
            s.headDim % lanes,
            0,
            `${variant.name} reads rows ${lanes} values at a time: headDim must be a multiple of ${lanes}, got ${s.headDim}`,
          ),
        );
        return problems;
      }
      const dv = s.headDim / lanes;
      if (rowThreads > wg) {
        problems.push(ruleProblem('rowThreads ≤ wg', rowThreads, wg, `Threads per row (${rowThreads}) cannot exceed the workgroup size (${wg})`));
        return problems;
      }
      const rowGroups = wg / rowThreads;
      if (dv % rowThreads !== 0) {
        problems.push(ruleProblem(`headDim/${lanes} % rowThreads`, rowThreads, dv, `Threads per row (${rowThreads}) must divide headDim/${lanes} = ${dv}`));
      }
      if (br % rowGroups !== 0) {
        problems.push(
          ruleProblem('Br % (wg / rowThreads)', br, rowGroups, `Query tile Br = ${br} must be a multiple of wg / rowThreads = ${rowGroups} row groups`),
        );
      }
      if (bc % rowThreads !== 0) {
        problems.push(ruleProblem('Bc % rowThreads', bc, rowThreads, `Key tile Bc = ${bc} must be a multiple of Threads per row = ${rowThreads}`));
      }
      // The geometry below is meaningless when the tiles do not divide.
      if (problems.length > tensorCount) return problems;
      const geo = flashGeometry(s.headDim, tiles, lanes);
      problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', wg, `Workgroup size ${wg}`));
      problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', wg, `Workgroup size ${wg}`));
      problems.push(
        ...overLimit(
          caps,
          'maxComputeWorkgroupStorageSize',
          geo.workgroupBytes,
          `Br = ${br}, Bc = ${bc} at d = ${s.headDim} (${f16 ? 'Q tile, ' : ''}K/V tile, P tile${geo.reduction === 'workgroup' ? (f16 ? ', row partials' : ', row and scatter partials') : ''})`,
        ),
      );
      if (geo.registerFloats > FLASH_MAX_REGISTER_FLOATS) {
        problems.push(
          ruleProblem(
            'registers per invocation',
            geo.registerFloats,
            FLASH_MAX_REGISTER_FLOATS,
            `each invocation would hold ${f16 ? '' : `a ${geo.tm}×${geo.tdv * lanes} slice of Q, ${geo.tm}×${geo.rowThreads} partial scores, `}${geo.tm}×${geo.tn} scores, ${geo.tm}×${geo.tdv * lanes} outputs and its staged K/V: ${geo.registerFloats} registers, over ${FLASH_MAX_REGISTER_FLOATS} (it would spill to memory)`,
          ),
        );
      }
      if (subgroups) {
        if (!caps.features.includes('subgroups')) {
          problems.push(ruleProblem('feature subgroups', 1, 0, 'Subgroup reductions need the "subgroups" feature, which this device lacks'));
        } else if (rowThreads > caps.subgroupMinSize) {
          problems.push(
            ruleProblem(
              'subgroupMinSize',
              rowThreads,
              caps.subgroupMinSize,
              `Subgroup reductions need Threads per row (${rowThreads}) ≤ the minimum subgroup size (${caps.subgroupMinSize})`,
            ),
          );
        }
      }
      problems.push(...flashGridProblems(s, br, caps));
      return problems;
    },

    bytesMoved(s, tiles) {
      return flashBytesMoved(s, tiles.br, tiles.bc, f16 ? 2 : 4);
    },

    scratch(s) {
      return f16 ? f16Scratch(s) : [];
    },

    prepare(device, s, tiles, caps) {
      return prepareFlashPipeline(device, s, caps, {
        label: `${variant.name} ${tilesLabel(tiles)} d=${s.headDim}`,
        code: flashShaderCode(variant, s.headDim, tiles),
        f16,
        rowsPerTile: tiles.br,
      });
    },
  };
  return kernel;
}

/**
 * The WGSL module of one configuration: the composed files with the variant's side of their
 * `@if f16` blocks, consts specialized, marked loops unrolled. `keyTiles` is the WGSL file that
 * says which key tiles a workgroup visits, which keys it masks and how the grid is ordered
 * (key_tiles, key_tile_start, tile_needs_mask, key_hidden, flash_work_item: see flash.wgsl):
 * dense attention's mask_causal.wgsl unless another family's kernel brings its own.
 */
export function flashShaderCode(variant: Pick<FlashVariant, 'lanes'>, headDim: number, tiles: FlashTiles, keyTiles: string = maskCausal): string {
  const { lanes } = variant;
  const flags = { f16: lanes === 8 };
  const geo = flashGeometry(headDim, tiles, lanes);
  const viaSubgroups = geo.reduction === 'subgroup';
  const reduceFiles = viaSubgroups ? [rowReduceSubgroup, scatterSubgroup] : [rowReduceWorkgroup, scatterWorkgroup];
  const parts = [params, ...reduceFiles, keyTiles, flashGlobal, flashSource].map((part) => resolveIfBlocks(part, flags));
  return unrollLoops(
    specialize(composeShader(parts), {
      HEAD_DIM: headDim,
      BR: tiles.br,
      BC: tiles.bc,
      WORKGROUP_SIZE: tiles.wg,
      ROW_THREADS: tiles.rowThreads,
      PREFETCH: tiles.prefetch === 1,
      UNROLL: tiles.unroll ?? 1,
    }),
    unrollBounds(geo, lanes),
  );
}

/**
 * Global-memory traffic of a flash kernel: Q read once and O written once (f32), K and V read once
 * per query tile of `br` rows (only the tiles a causal workgroup loads), in `inBytes` per value.
 */
export function flashBytesMoved(s: ResolvedShape, br: number, bc: number, inBytes: number): number {
  const rowBytes = s.headDim * inBytes;
  let kvRows = 0;
  for (let row0 = 0; row0 < s.seqQ; row0 += br) {
    const rowEnd = Math.min(row0 + br, s.seqQ);
    const kEnd = s.causal ? Math.max(0, Math.min(s.seqK, rowEnd + s.seqK - s.seqQ)) : s.seqK;
    kvRows += Math.min(Math.ceil(kEnd / bc) * bc, s.seqK);
  }
  const perHead = s.seqQ * rowBytes + s.seqQ * s.headDim * 4 + 2 * kvRows * rowBytes;
  return s.batch * s.heads * perHead;
}

/** The f16 copies of Q, K and V an f16 flash kernel binds (convertToF16). */
export function f16Scratch(s: ResolvedShape): ScratchBuffer[] {
  const sizes = tensorSizes(s);
  return [
    { name: 'Q (f16, pre-scaled)', bytes: sizes.q * 2 },
    { name: 'K (f16)', bytes: sizes.k * 2 },
    { name: 'V (f16)', bytes: sizes.v * 2 },
  ];
}

/**
 * Measured defaults by head dim (H100, Dawn/Vulkan: bench/results/), tried in order; the first
 * the device can run is the default, then any configuration that fits, largest tiles first.
 */
const PREFERRED_F32: FlashVariant['preferred'] = {
  32: [{ br: 256, bc: 16, wg: 256, rowThreads: 4, prefetch: 1, unroll: 16 }],
  64: [{ br: 256, bc: 16, wg: 256, rowThreads: 4, prefetch: 1, unroll: 16 }],
  128: [{ br: 128, bc: 32, wg: 256, rowThreads: 8, prefetch: 1, unroll: 16 }],
};

const PREFERRED_F16: FlashVariant['preferred'] = {
  32: [{ br: 64, bc: 32, wg: 128, rowThreads: 4, prefetch: 1, unroll: 16 }],
  64: [{ br: 64, bc: 32, wg: 128, rowThreads: 4, prefetch: 1, unroll: 16 }],
  128: [{ br: 128, bc: 32, wg: 256, rowThreads: 4, prefetch: 1, unroll: 16 }],
};

export const flashKernel = makeFlashKernel({
  name: 'flash',
  title: 'FlashAttention-2 (tiled online softmax, f32)',
  description:
    'One workgroup per tile of Br query rows; K/V tiles of Bc rows stream through workgroup memory with a running row max and sum. S and P never reach global memory.',
  precision: 'f32',
  lanes: 4,
  preferred: PREFERRED_F32,
});

export const flashF16Kernel = makeFlashKernel({
  name: 'flash-f16',
  title: 'FlashAttention-2, f16 storage and products',
  description:
    'The flash kernel on f16 copies of Q (pre-scaled), K and V, with packed f16 multiply-adds; row max, row sum and the output accumulator stay f32. Needs shader-f16.',
  precision: 'f16',
  lanes: 8,
  preferred: PREFERRED_F16,
});

export function canUseSubgroups(caps: DeviceCaps): boolean {
  return caps.features.includes('subgroups') && caps.subgroupMinSize >= 2;
}

/** Every configuration, biggest tiles first, for devices where no preferred one fits. */
function fallbackCandidates(subgroups: number): FlashTiles[] {
  const out: FlashTiles[] = [];
  for (const br of [...BR_VALUES].reverse())
    for (const bc of [...BC_VALUES].reverse())
      for (const wg of [128, 64, 256, 32, 16])
        for (const rowThreads of [4, 8, 2, 16, 1, 32]) out.push({ br, bc, wg, rowThreads, subgroups, prefetch: 1, unroll: 4 });
  return out;
}
