import type { TopkShape } from './shape.js';

/** Size of the Params struct in params.wgsl. */
export const PARAMS_BYTES = 64;
/** Stride between blocks' Params in one uniform buffer (minUniformBufferOffsetAlignment is at most 256). */
export const PARAMS_STRIDE = 256;

/** The block of queries one dispatch covers, and where its selected indices go. */
export interface BlockParams {
  rows: number;
  queryStart: number;
  outRowStart: number;
  outRows: number;
}

export function encodeParams(s: TopkShape, block: BlockParams): ArrayBuffer {
  const buffer = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  u32.set([s.batch, s.heads, s.kvHeads, s.seqK, s.headDim, s.topK, s.indexHeads, s.indexDim]);
  u32.set([block.rows, block.queryStart, block.outRowStart, block.outRows, s.heads / s.kvHeads, 0, 0], 8);
  f32[15] = s.scale * Math.LOG2E;
  return buffer;
}

/** One uniform buffer holding a Params per block, PARAMS_STRIDE bytes apart. */
export function createParamsBuffer(device: GPUDevice, s: TopkShape, blocks: readonly BlockParams[]): GPUBuffer {
  const buffer = device.createBuffer({
    label: 'topk params',
    size: PARAMS_STRIDE * blocks.length,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const data = new Uint8Array(PARAMS_STRIDE * blocks.length);
  blocks.forEach((block, n) => data.set(new Uint8Array(encodeParams(s, block)), n * PARAMS_STRIDE));
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** A bind group whose binding 0 is block `n`'s Params and the others whole buffers. */
export function bindBlock(
  device: GPUDevice,
  label: string,
  layout: GPUBindGroupLayout,
  params: GPUBuffer,
  n: number,
  buffers: readonly GPUBuffer[],
): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout,
    entries: [
      { binding: 0, resource: { buffer: params, offset: n * PARAMS_STRIDE, size: PARAMS_BYTES } },
      ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
    ],
  });
}
