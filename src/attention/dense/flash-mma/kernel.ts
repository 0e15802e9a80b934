import { F16_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps, SubgroupMatrixConfig } from '../../../gpu/caps.js';
import { composeShader } from '../../../wgsl/compose.js';
import { resolveIfBlocks } from '../../../wgsl/conditional.js';
import params from '../params.wgsl?raw';
import flashGlobal from '../flash_global.wgsl?raw';
import mmaSource from './flash_mma.wgsl?raw';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, tilesLabel } from '../../common.js';
import { flashGridProblems, tensorProblems } from '../common.js';
import { prepareFlashPipeline } from '../flash/prepare.js';
import { denseProblem } from '../problem.js';
import type { ResolvedShape } from '../shape.js';
import { FLASH_MAX_REGISTER_FLOATS, f16Scratch, flashBytesMoved } from '../flash/kernel.js';
import type { ConfigProblem, KernelDescriptor, Tunable } from '../../types.js';

/** A flash-mma configuration (see TUNABLES). */
export type MmaTiles = { readonly sgs: number; readonly rowBlocks: number; readonly bc: number };

const SUBGROUP_MATRIX = 'chromium-experimental-subgroup-matrix';

/**
 * The subgroup-matrix shape the kernel uses: the device's first (its preferred) configuration with
 * f16 operands and an f32 result, or undefined when it has none.
 */
export function mmaConfig(caps: DeviceCaps): SubgroupMatrixConfig | undefined {
  return caps.subgroupMatrixConfigs.find((c) => c.componentType === 'f16' && c.resultComponentType === 'f32');
}

/** Quantities derived from a configuration; the shader derives the same ones from its consts. */
export interface MmaGeometry {
  config: SubgroupMatrixConfig;
  subgroupSize: number;
  /** Query rows per workgroup: subgroups × row blocks × M. */
  br: number;
  workgroupSize: number;
  lanesPerRow: number;
  workgroupBytes: number;
  registerFloats: number;
  unrollBounds: Record<string, number>;
}

const pad16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

export function mmaGeometry(headDim: number, tiles: MmaTiles, config: SubgroupMatrixConfig, subgroupSize: number): MmaGeometry {
  const { sgs, rowBlocks, bc } = tiles;
  const { M, N, K } = config;
  const br = sgs * rowBlocks * M;
  const workgroupSize = sgs * subgroupSize;
  const lanesPerRow = subgroupSize / M;
  const d8 = headDim / 8;
  // tile_h: K and V tiles and P (f16, rows padded by 8 values), or the Q tile at the start;
  // tile_s: S (f32, rows padded by 4); one rescale flag per subgroup.
  const kvStride = headDim + 8;
  const hValues = Math.max(2 * bc * kvStride + br * (bc + 8), br * kvStride);
  const workgroupBytes = pad16(hValues * 2) + pad16(br * (bc + 4) * 4) + pad16(sgs * 4);
  const stage = Math.ceil((bc * d8) / workgroupSize);
  // Per lane: Q as left matrices and P's (f16, two to a register), O as f32 result matrices, a
  // row's share of S, and the staged K and V.
  const perLane = (values: number) => values / subgroupSize;
  const registerFloats =
    perLane((rowBlocks * M * headDim) / 2) + perLane(rowBlocks * M * headDim) + perLane((rowBlocks * M * bc) / 2) + bc / lanesPerRow + 2 * 4 * stage;
  return {
    config,
    subgroupSize,
    br,
    workgroupSize,
    lanesPerRow,
    workgroupBytes,
    registerFloats,
    unrollBounds: {
      STAGE: stage,
      Q_STAGE: Math.ceil((br * d8) / workgroupSize),
      SUBGROUPS: sgs,
      ROW_BLOCKS: rowBlocks,
      QK_STEPS: headDim / K,
      KEY_BLOCKS: bc / N,
      PV_STEPS: bc / K,
      D_BLOCKS: headDim / N,
      O_MATS: rowBlocks * (headDim / N),
      ROW_STEPS: Math.log2(lanesPerRow),
      S_VEC: bc / 4 / lanesPerRow,
      O_VEC: N / 4 / lanesPerRow,
      O_COLS: N / lanesPerRow,
    },
  };
}

const TUNABLES: Tunable<keyof MmaTiles>[] = [
  // One and two subgroups per workgroup are not offered: on the H100 (NVIDIA Vulkan driver 580,
  // Dawn in webgpu 0.6.2) every such configuration gave wrong outputs (zeros for a single key) in
  // the conformance run, while 4 and 8 passed every shape with the same code, tiles and shapes.
  // The subgroup ids and lanes were checked and were as expected; the cause was not found.
  {
    key: 'sgs',
    label: 'Subgroups per workgroup',
    help: 'Each subgroup owns its own blocks of query rows; more subgroups share each K/V tile among more rows.',
    values: [4, 8],
  },
  {
    key: 'rowBlocks',
    label: 'Row blocks per subgroup',
    help: 'Blocks of M query rows (the matrix shape’s M) per subgroup: each K/V matrix loaded from workgroup memory serves this many, at the cost of registers.',
    values: [1, 2],
  },
  { key: 'bc', label: 'Key tile (Bc)', help: 'Key/value rows staged in workgroup memory per step.', values: [16, 32, 64, 128] },
];

/** Measured defaults by head dim (H100, Dawn/Vulkan: bench/results/), tried in order. */
const PREFERRED: Record<number, MmaTiles[]> = {
  32: [{ sgs: 4, rowBlocks: 1, bc: 32 }],
  64: [{ sgs: 4, rowBlocks: 1, bc: 32 }],
  128: [{ sgs: 4, rowBlocks: 1, bc: 16 }],
};

export const flashMmaKernel: KernelDescriptor<ResolvedShape, MmaTiles> = {
  name: 'flash-mma',
  problem: denseProblem,
  title: 'FlashAttention-2 on subgroup matrices (f16, tensor cores)',
  description:
    'QKᵀ and PV as cooperative matrix multiplies (chromium-experimental-subgroup-matrix: tensor cores on NVIDIA) on f16 Q (pre-scaled), K, V and P with f32 accumulation; softmax on the lanes through workgroup memory, O rescaled only when a row max grows by more than 2⁸.',
  tunables: TUNABLES,
  requiredFeatures: ['shader-f16', 'subgroups', SUBGROUP_MATRIX],
  precision: 'f16',
  tolerance: F16_TOLERANCE,
  // Defaults, two row blocks per subgroup (a Kᵀ/V matrix serving two), the smallest key tile (one
  // matrix wide), the largest workgroups and tiles of 256 query rows.
  conformance: [
    { fixed: { headDim: 32 }, tiles: [{}, { sgs: 4, rowBlocks: 2, bc: 16 }, { sgs: 8, rowBlocks: 1, bc: 32 }, { sgs: 8, rowBlocks: 2, bc: 16 }] },
    { fixed: { headDim: 64 }, tiles: [{}, { sgs: 4, rowBlocks: 2, bc: 16 }, { sgs: 4, rowBlocks: 2, bc: 32 }, { sgs: 8, rowBlocks: 1, bc: 32 }] },
    { fixed: { headDim: 128 }, tiles: [{}, { sgs: 4, rowBlocks: 2, bc: 16 }, { sgs: 4, rowBlocks: 1, bc: 16 }] },
  ],

  defaultTiles(shape, caps) {
    const candidates: MmaTiles[] = [...(PREFERRED[shape.headDim] ?? PREFERRED[64]!)];
    for (const sgs of [4, 8]) for (const rowBlocks of [1, 2]) for (const bc of [64, 32, 128, 16]) candidates.push({ sgs, rowBlocks, bc });
    return candidates.find((t) => flashMmaKernel.check(shape, t, caps).length === 0) ?? candidates[0]!;
  },

  check(s, tiles, caps) {
    const problems: ConfigProblem[] = [...tensorProblems(s, caps)];
    const config = mmaConfig(caps);
    if (!config) {
      problems.push(
        ruleProblem(
          'subgroupMatrixConfigs (f16 → f32)',
          1,
          0,
          `flash-mma needs a subgroup-matrix configuration with f16 operands and an f32 result; this device offers ${caps.subgroupMatrixConfigs.length === 0 ? 'none' : caps.subgroupMatrixConfigs.map((c) => `${c.componentType}→${c.resultComponentType} ${c.M}×${c.N}×${c.K}`).join(', ')}`,
        ),
      );
      return problems;
    }
    const { M, N, K } = config;
    const size = caps.subgroupMaxSize;
    if (caps.subgroupMinSize !== size) {
      problems.push(
        ruleProblem(
          'subgroupMinSize = subgroupMaxSize',
          caps.subgroupMinSize,
          size,
          `flash-mma lays out its softmax for one subgroup size; this device's subgroups vary from ${caps.subgroupMinSize} to ${size}`,
        ),
      );
      return problems;
    }
    if (size % M !== 0 || N % (4 * (size / M)) !== 0) {
      problems.push(
        ruleProblem(
          'subgroup size vs matrix shape',
          size,
          M,
          `flash-mma spreads M = ${M} rows over a subgroup of ${size} lanes in vec4s of N = ${N} columns: this shape does not divide`,
        ),
      );
      return problems;
    }
    const { sgs, rowBlocks, bc } = tiles;
    if (s.headDim % 8 !== 0 || s.headDim % K !== 0 || s.headDim % N !== 0) {
      problems.push(
        ruleProblem(
          'headDim % lcm(8, K, N)',
          s.headDim,
          Math.max(8, K, N),
          `flash-mma needs headDim to be a multiple of 8 and of the matrix shape's K = ${K} and N = ${N}, got ${s.headDim}`,
        ),
      );
    }
    if (bc % N !== 0 || bc % K !== 0 || (bc / 4) % (size / M) !== 0) {
      problems.push(ruleProblem('Bc % max(K, N)', bc!, Math.max(K, N), `Key tile Bc = ${bc} must be a multiple of the matrix shape's K = ${K} and N = ${N}`));
    }
    if (problems.length > 0) return problems;
    const geo = mmaGeometry(s.headDim, tiles, config, size);
    problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', geo.workgroupSize, `${sgs} subgroups of ${size}`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', geo.workgroupSize, `${sgs} subgroups of ${size}`));
    problems.push(
      ...overLimit(
        caps,
        'maxComputeWorkgroupStorageSize',
        geo.workgroupBytes,
        `Br = ${geo.br} (${sgs} subgroups × ${rowBlocks} × ${M} rows), Bc = ${bc} at d = ${s.headDim} (K/V tiles, S and P)`,
      ),
    );
    if (geo.registerFloats > FLASH_MAX_REGISTER_FLOATS) {
      problems.push(
        ruleProblem(
          'registers per invocation',
          geo.registerFloats,
          FLASH_MAX_REGISTER_FLOATS,
          `each lane would hold its share of ${rowBlocks}×${M} rows of Q, P and O, a row's share of S and the staged K/V: ${Math.ceil(geo.registerFloats)} registers, over ${FLASH_MAX_REGISTER_FLOATS} (it would spill to memory)`,
        ),
      );
    }
    problems.push(...flashGridProblems(s, geo.br, caps));
    return problems;
  },

  bytesMoved(s, tiles) {
    return flashBytesMoved(s, mmaRows(tiles), tiles.bc, 2);
  },

  scratch: f16Scratch,

  prepare(device, s, tiles, caps) {
    const config = mmaConfig(caps)!;
    const geo = mmaGeometry(s.headDim, tiles, config, caps.subgroupMaxSize);
    return prepareFlashPipeline(device, s, caps, {
      label: `flash-mma ${tilesLabel(tiles)} d=${s.headDim}`,
      code: mmaShaderCode(s.headDim, tiles, config, geo),
      f16: true,
      rowsPerTile: geo.br,
    });
  },
};

/**
 * The WGSL module of one configuration: consts specialized, marked loops unrolled. Without
 * `keyTiles`, dense flash-mma: its key-tile loop and causal mask written out in flash_mma.wgsl
 * (measured faster than through the hooks). With it, the same shader with the `hooks` side of
 * its `@if hooks` blocks, composed with that key-tile file (key_tiles, key_tile_start,
 * tile_needs_mask, key_hidden, flash_work_item: see ../flash/flash.wgsl): the window family's
 * window_tiles.wgsl, or ../flash/mask_causal.wgsl for the dense attention through the hooks.
 */
export function mmaShaderCode(headDim: number, tiles: MmaTiles, config: SubgroupMatrixConfig, geo: MmaGeometry, keyTiles?: string): string {
  const hooks = keyTiles !== undefined;
  const parts = [params, ...(hooks ? [keyTiles] : []), resolveIfBlocks(flashGlobal, { f16: true }), resolveIfBlocks(mmaSource, { hooks }, 'flash_mma.wgsl')];
  return unrollLoops(
    specialize(composeShader(parts), {
      HEAD_DIM: headDim,
      SG_M: config.M,
      SG_N: config.N,
      SG_K: config.K,
      SUBGROUP_SIZE: geo.subgroupSize,
      SUBGROUPS: tiles.sgs,
      ROW_BLOCKS: tiles.rowBlocks,
      BC: tiles.bc,
    }),
    geo.unrollBounds,
  );
}

/**
 * Query rows per workgroup for the traffic model, which has no device at hand: M = 16, the
 * shape of every f16 configuration devices report today (NVIDIA, Intel, Apple's 8×8 aside).
 */
export function mmaRows(tiles: MmaTiles): number {
  return tiles.sgs * tiles.rowBlocks * 16;
}
