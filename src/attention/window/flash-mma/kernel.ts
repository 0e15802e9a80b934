import { tilesLabel } from '../../common.js';
import { type MmaTiles, flashMmaKernel, mmaConfig, mmaGeometry, mmaRows, mmaShaderCode } from '../../dense/flash-mma/kernel.js';
import { f16Scratch } from '../../dense/flash/kernel.js';
import { prepareFlashPipeline } from '../../dense/flash/prepare.js';
import type { SubgroupMatrixConfig } from '../../../gpu/caps.js';
import type { KernelDescriptor } from '../../types.js';
import { windowFlashBytesMoved } from '../flash/kernel.js';
import windowTiles from '../flash/window_tiles.wgsl?raw';
import { windowProblem } from '../problem.js';
import type { WindowShape } from '../shape.js';

/**
 * Sliding-window attention with sinks on subgroup matrices: dense flash-mma's shader, tiling,
 * tunables and device checks (a window shape is a dense causal shape, so they apply unchanged: same
 * workgroup memory, registers, grid and storage bindings, plus one small uniform), with the key-tile
 * loop of window-flash (window_tiles.wgsl: the sink tiles, then the window tiles only).
 */
export const windowFlashMmaKernel: KernelDescriptor<WindowShape, MmaTiles> = {
  name: 'window-flash-mma',
  title: 'Sliding-window FlashAttention-2 with sinks on subgroup matrices (f16, tensor cores)',
  description:
    'flash-mma (QKᵀ and PV on chromium-experimental-subgroup-matrix, f16 operands, f32 accumulation) whose workgroups visit only the key tiles that meet their rows’ windows or the sink tokens, as window-flash: O(N·(window + sinks)) work and K/V traffic.',
  problem: windowProblem,
  tunables: flashMmaKernel.tunables,
  searchSpace: flashMmaKernel.searchSpace,
  requiredFeatures: flashMmaKernel.requiredFeatures,
  precision: flashMmaKernel.precision,
  tolerance: flashMmaKernel.tolerance,
  // flash-mma's tile matrix (defaults, two row blocks, the smallest key tile, the largest
  // workgroups), each run on the window conformance shapes.
  conformance: flashMmaKernel.conformance,

  defaultTiles: (s, caps) => flashMmaKernel.defaultTiles(s, caps),

  check: (s, tiles, caps) => flashMmaKernel.check(s, tiles, caps),

  bytesMoved(s, tiles) {
    return windowFlashBytesMoved(s, mmaRows(tiles), tiles.bc, 2);
  },

  scratch: f16Scratch,

  prepare(device, s, tiles, caps) {
    const config = mmaConfig(caps)!;
    const geo = mmaGeometry(s.headDim, tiles, config, caps.subgroupMaxSize);
    return prepareFlashPipeline(device, s, caps, {
      label: `window-flash-mma ${tilesLabel(tiles)} d=${s.headDim}`,
      code: windowMmaShaderCode(s.headDim, tiles, config, caps.subgroupMaxSize),
      f16: true,
      rowsPerTile: geo.br,
      // window_tiles.wgsl's WindowParams; the grid is taken in its natural order (its flash_work_item).
      extraUniform: new Uint32Array([s.window, s.sinks, 0, 0]),
    });
  },
};

/**
 * The WGSL of one configuration (pure: tests read it): flash_mma.wgsl with its key-tile hooks on,
 * composed with window_tiles.wgsl, so only the key tiles, the mask and the grid order differ from
 * the dense kernel's.
 */
export function windowMmaShaderCode(headDim: number, tiles: MmaTiles, config: SubgroupMatrixConfig, subgroupSize: number): string {
  return mmaShaderCode(headDim, tiles, config, mmaGeometry(headDim, tiles, config, subgroupSize), windowTiles);
}
