import { tilesLabel } from '../../common.js';
import { type FlashTiles, f16Scratch, flashF16Kernel, flashKernel, flashShaderCode } from '../../dense/flash/kernel.js';
import { prepareFlashPipeline } from '../../dense/flash/prepare.js';
import type { ResolvedShape } from '../../dense/shape.js';
import type { KernelDescriptor } from '../../types.js';
import { windowProblem } from '../problem.js';
import { type WindowShape, keyTileStart, keyTiles } from '../shape.js';
import windowTiles from './window_tiles.wgsl?raw';

/** What differs between the f32 and f16 window kernels. */
interface WindowVariant {
  name: string;
  title: string;
  description: string;
  /** The dense flash kernel of the same precision: its tunables, defaults and device checks apply unchanged. */
  dense: KernelDescriptor<ResolvedShape, FlashTiles>;
  /** Values per 16-byte vector: 4 f32 or 8 f16. */
  lanes: 4 | 8;
}

/**
 * A sliding-window FlashAttention-2 kernel: the dense flash kernel's tiling, tunables and device
 * checks (a window shape is a dense causal shape, so they apply unchanged: same workgroup memory,
 * registers, grid and storage bindings, plus one small uniform), with a key-tile loop over the
 * sink tiles and the window tiles only.
 */
function makeWindowFlashKernel(variant: WindowVariant): KernelDescriptor<WindowShape, FlashTiles> {
  const { dense, lanes } = variant;
  const f16 = lanes === 8;
  return {
    name: variant.name,
    title: variant.title,
    description: variant.description,
    problem: windowProblem,
    tunables: dense.tunables,
    searchSpace: dense.searchSpace,
    requiredFeatures: dense.requiredFeatures,
    precision: dense.precision,
    tolerance: dense.tolerance,
    // The dense flash tile matrix (several configurations per head dim, some that divide nothing),
    // each run on the window conformance shapes.
    conformance: dense.conformance,

    defaultTiles: (s, caps) => dense.defaultTiles(s, caps),

    check: (s, tiles, caps) => dense.check(s, tiles, caps),

    bytesMoved(s, tiles) {
      return windowFlashBytesMoved(s, tiles.br, tiles.bc, f16 ? 2 : 4);
    },

    scratch: (s) => (f16 ? f16Scratch(s) : []),

    prepare(device, s, tiles, caps) {
      return prepareFlashPipeline(device, s, caps, {
        label: `${variant.name} ${tilesLabel(tiles)} d=${s.headDim}`,
        code: windowShaderCode(s.headDim, tiles, lanes),
        f16,
        rowsPerTile: tiles.br,
        // window_tiles.wgsl's WindowParams; the grid is taken in its natural order (see the shader's main).
        extraUniform: new Uint32Array([s.window, s.sinks, 0, 0]),
      });
    },
  };
}

/**
 * The WGSL of one configuration (pure: tests read it): the dense flash shader of the same precision
 * with window_tiles.wgsl in place of the dense key-tile file, so only the key tiles, the mask and
 * the grid order differ.
 */
export function windowShaderCode(headDim: number, tiles: FlashTiles, lanes: 4 | 8): string {
  return flashShaderCode({ lanes }, headDim, tiles, windowTiles);
}

export const windowFlashKernel = makeWindowFlashKernel({
  name: 'window-flash',
  title: 'Sliding-window FlashAttention-2 with sinks (f32)',
  description:
    'Flash attention whose workgroups visit only the key tiles that meet their rows’ windows or the sink tokens: O(N·(window + sinks)) work and K/V traffic; element-wise masks only on boundary tiles.',
  dense: flashKernel,
  lanes: 4,
});

export const windowFlashF16Kernel = makeWindowFlashKernel({
  name: 'window-flash-f16',
  title: 'Sliding-window FlashAttention-2 with sinks, f16 storage and products',
  description:
    'window-flash on f16 copies of Q (pre-scaled), K and V with packed f16 multiply-adds (the dense flash-f16 kernel’s inner loops); row max, sum and output accumulators stay f32. Needs shader-f16.',
  dense: flashF16Kernel,
  lanes: 8,
});

/**
 * Global-memory traffic of a window flash kernel: Q read and O written once (f32), and per query
 * tile of `br` rows the K and V rows of every key tile it visits (clipped at seqK), `inBytes` each.
 */
export function windowFlashBytesMoved(s: WindowShape, br: number, bc: number, inBytes: number): number {
  let kvRows = 0;
  for (let row0 = 0; row0 < s.seqQ; row0 += br) {
    const tiles = keyTiles(s, row0, Math.min(row0 + br, s.seqQ), bc);
    for (let t = 0; t < tiles.count; t++) kvRows += Math.min(bc, s.seqK - keyTileStart(tiles, t, bc));
  }
  const perHead = s.seqQ * s.headDim * (inBytes + 4) + 2 * kvRows * s.headDim * inBytes;
  return s.batch * s.heads * perHead;
}
