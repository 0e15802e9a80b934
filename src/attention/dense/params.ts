import type { ResolvedShape } from './shape.js';

/** Size of the Params struct in params.wgsl. */
export const PARAMS_BYTES = 48;

/** Encodes a shape as the uniform block every kernel reads (field order of params.wgsl). */
export function encodeParams(s: ResolvedShape): ArrayBuffer {
  const buffer = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(buffer);
  const i32 = new Int32Array(buffer);
  const f32 = new Float32Array(buffer);
  u32[0] = s.batch;
  u32[1] = s.heads;
  u32[2] = s.kvHeads;
  u32[3] = s.seqQ;
  u32[4] = s.seqK;
  u32[5] = s.headDim;
  u32[6] = s.causal ? 1 : 0;
  i32[7] = s.seqK - s.seqQ;
  f32[8] = s.scale;
  f32[9] = s.scale * Math.LOG2E;
  u32[10] = s.heads / s.kvHeads;
  u32[11] = 0;
  return buffer;
}

/** A uniform buffer holding the shape's Params, for one bound kernel. */
export function createParamsBuffer(device: GPUDevice, s: ResolvedShape): GPUBuffer {
  const buffer = device.createBuffer({ label: 'params', size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, encodeParams(s));
  return buffer;
}
