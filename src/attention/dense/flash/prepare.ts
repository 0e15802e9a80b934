import type { DeviceCaps } from '../../../gpu/caps.js';
import { type CompiledPipeline, bindBuffers, compilePipeline } from '../../../gpu/pipelines.js';
import type { PreparedKernel } from '../../types.js';
import { createParamsBuffer } from '../params.js';
import type { ResolvedShape } from '../shape.js';
import { spreadGrid } from '../../common.js';
import convertF16Source from '../../../wgsl/convert_f16.wgsl?raw';
import type { TensorBuffers } from '../../types.js';
import { tensorSizes } from '../shape.js';

export interface FlashPipelineSpec {
  label: string;
  code: string;
  /** Reads f16 copies of Q (pre-scaled), K and V, made once per binding outside any timed dispatch. */
  f16: boolean;
  /** Query rows per workgroup: the grid is (query tiles, heads, batch). */
  rowsPerTile: number;
  /** A second uniform block at binding 5 (e.g. the window and sinks of a window kernel). */
  extraUniform?: Uint32Array;
}

/**
 * Pipelines and bindings of a flash-style kernel (flash, flash-f16, flash-mma, window-flash(-mma)): one
 * compute pipeline over params, Q, K, V and O (and an optional second uniform), with the f16
 * conversion pass when the kernel reads f16.
 */
export async function prepareFlashPipeline(device: GPUDevice, s: ResolvedShape, caps: DeviceCaps, spec: FlashPipelineSpec): Promise<PreparedKernel> {
  const extra = spec.extraUniform;
  const [compiled, converter] = await Promise.all([
    compilePipeline(device, {
      label: spec.label,
      code: spec.code,
      bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', ...(extra ? (['uniform'] as const) : [])],
    }),
    spec.f16 ? compileF16Converter(device) : Promise.resolve(undefined),
  ]);
  return {
    compileMs: Math.max(compiled.cached ? 0 : compiled.compileMs, converter && !converter.cached ? converter.compileMs : 0),
    cached: compiled.cached && (converter?.cached ?? true),
    shaders: [{ label: compiled.label, code: compiled.code }],
    bind(tensors) {
      const params = createParamsBuffer(device, s);
      let extraBuffer: GPUBuffer | undefined;
      if (extra) {
        extraBuffer = device.createBuffer({
          label: `${spec.label} uniform`,
          size: Math.max(16, extra.byteLength),
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        });
        device.queue.writeBuffer(extraBuffer, 0, extra);
      }
      const halves = converter ? convertToF16(device, converter, tensors, s, caps) : undefined;
      const inputs = halves ? [halves.q, halves.k, halves.v] : [tensors.q!, tensors.k!, tensors.v!];
      const group = bindBuffers(device, spec.label, compiled.layout, [params, ...inputs, tensors.o!, ...(extraBuffer ? [extraBuffer] : [])]);
      return {
        encode(pass) {
          pass.setPipeline(compiled.pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(Math.ceil(s.seqQ / spec.rowsPerTile), s.heads, s.batch);
        },
        destroy() {
          params.destroy();
          extraBuffer?.destroy();
          halves?.destroy();
        },
      };
    },
  };
}

export function compileF16Converter(device: GPUDevice): Promise<CompiledPipeline> {
  return compilePipeline(device, {
    label: 'convert f32 to f16',
    code: convertF16Source,
    bindings: ['uniform', 'read-only-storage', 'storage'],
  });
}

/**
 * Makes the f16 copies of Q (pre-scaled by scale·log2 e), K and V that the f16 kernel reads. Runs
 * once per binding, outside any timed dispatch: the tensors are the session's, already uploaded.
 */
export function convertToF16(device: GPUDevice, converter: CompiledPipeline, buffers: TensorBuffers, s: ResolvedShape, caps: DeviceCaps) {
  const sizes = tensorSizes(s);
  const made: GPUBuffer[] = [];
  const encoder = device.createCommandEncoder({ label: 'convert to f16' });
  const pass = encoder.beginComputePass();
  pass.setPipeline(converter.pipeline);
  const convert = (label: string, src: GPUBuffer, count: number, scale: number) => {
    const dst = device.createBuffer({ label, size: Math.max(16, count * 2), usage: GPUBufferUsage.STORAGE });
    const params = device.createBuffer({ label: `${label} params`, size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    made.push(dst, params);
    const vectors = count / 8;
    const header = new ArrayBuffer(16);
    new Uint32Array(header)[0] = vectors;
    new Float32Array(header)[1] = scale;
    device.queue.writeBuffer(params, 0, header);
    pass.setBindGroup(0, bindBuffers(device, label, converter.layout, [params, src, dst]));
    const [x, y] = spreadGrid(Math.ceil(vectors / 256), caps.limits.maxComputeWorkgroupsPerDimension);
    pass.dispatchWorkgroups(x, y);
    return dst;
  };
  const q = convert('Q f16', buffers.q!, sizes.q, s.scale * Math.LOG2E);
  const k = convert('K f16', buffers.k!, sizes.k, 1);
  const v = convert('V f16', buffers.v!, sizes.v, 1);
  pass.end();
  device.queue.submit([encoder.finish()]);
  return { q, k, v, destroy: () => made.forEach((b) => b.destroy()) };
}
