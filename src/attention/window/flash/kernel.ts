import { F32_TOLERANCE } from '../../../harness/compare.js';
import { bindBuffers, compilePipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { tilesLabel } from '../../common.js';
import { type FlashTiles, flashGeometry, flashKernel, unrollBounds } from '../../dense/flash/kernel.js';
import rowReduceSubgroup from '../../dense/flash/row_reduce_subgroup.wgsl?raw';
import rowReduceWorkgroup from '../../dense/flash/row_reduce_workgroup.wgsl?raw';
import scatterSubgroup from '../../dense/flash/scatter_subgroup.wgsl?raw';
import scatterWorkgroup from '../../dense/flash/scatter_workgroup.wgsl?raw';
import params from '../../dense/params.wgsl?raw';
import { createParamsBuffer } from '../../dense/params.js';
import type { KernelDescriptor } from '../../types.js';
import { windowProblem } from '../problem.js';
import { type WindowShape, keyTileStart, keyTiles } from '../shape.js';
import windowF32Source from './window_f32.wgsl?raw';
import windowTiles from './window_tiles.wgsl?raw';

/** Size of WindowParams in window_tiles.wgsl. */
const WINDOW_PARAMS_BYTES = 16;

/**
 * Sliding-window FlashAttention-2 (f32): the dense flash kernel's tiling, tunables and device
 * checks (a window shape is a dense causal shape, so they apply unchanged: same workgroup memory,
 * registers, grid and bindings, plus one small uniform), with a key-tile loop over the sink tiles
 * and the window tiles only.
 */
export const windowFlashKernel: KernelDescriptor<WindowShape, FlashTiles> = {
  name: 'window-flash',
  title: 'Sliding-window FlashAttention-2 with sinks (f32)',
  description:
    'Flash attention whose workgroups visit only the key tiles that meet their rows’ windows or the sink tokens: O(N·(window + sinks)) work and K/V traffic; element-wise masks only on boundary tiles.',
  problem: windowProblem,
  tunables: flashKernel.tunables,
  searchSpace: flashKernel.searchSpace,
  requiredFeatures: [],
  precision: 'f32',
  tolerance: F32_TOLERANCE,
  // The dense flash tile matrix (several configurations per head dim, some that divide nothing),
  // each run on the window conformance shapes.
  conformance: flashKernel.conformance,

  defaultTiles: (s, caps) => flashKernel.defaultTiles(s, caps),

  check: (s, tiles, caps) => flashKernel.check(s, tiles, caps),

  bytesMoved(s, tiles) {
    return windowFlashBytesMoved(s, tiles.br, tiles.bc, 4);
  },

  scratch: () => [],

  async prepare(device, s, tiles) {
    const geo = flashGeometry(s.headDim, tiles);
    const reduceFiles = geo.reduction === 'subgroup' ? [rowReduceSubgroup, scatterSubgroup] : [rowReduceWorkgroup, scatterWorkgroup];
    const code = unrollLoops(
      specialize(composeShader([params, ...reduceFiles, windowTiles, windowF32Source]), {
        HEAD_DIM: s.headDim,
        BR: tiles.br,
        BC: tiles.bc,
        WORKGROUP_SIZE: tiles.wg,
        ROW_THREADS: tiles.rowThreads,
        PREFETCH: tiles.prefetch === 1,
        UNROLL: tiles.unroll ?? 1,
      }),
      unrollBounds(geo),
    );
    const compiled = await compilePipeline(device, {
      label: `window-flash ${tilesLabel(tiles)} d=${s.headDim}`,
      code,
      bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'uniform'],
    });
    return {
      compileMs: compiled.cached ? 0 : compiled.compileMs,
      cached: compiled.cached,
      shaders: [{ label: compiled.label, code: compiled.code }],
      bind(tensors) {
        const shapeParams = createParamsBuffer(device, s);
        const windowParams = device.createBuffer({ label: 'window params', size: WINDOW_PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        device.queue.writeBuffer(windowParams, 0, new Uint32Array([s.window, s.sinks, 0, 0]));
        const group = bindBuffers(device, 'window-flash', compiled.layout, [shapeParams, tensors.q!, tensors.k!, tensors.v!, tensors.o!, windowParams]);
        return {
          encode(pass) {
            pass.setPipeline(compiled.pipeline);
            pass.setBindGroup(0, group);
            // work_item (params.wgsl) takes the query tiles last first: under a window the first
            // tiles (rows before the window fills) are the cheap ones, so they fill the tail.
            pass.dispatchWorkgroups(Math.ceil(s.seqQ / tiles.br), s.heads, s.batch);
          },
          destroy() {
            shapeParams.destroy();
            windowParams.destroy();
          },
        };
      },
    };
  },
};

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
