import { type BindingKind, type CompiledPipeline, bindingKinds, compilePipeline } from '../../gpu/pipelines.js';
import type { DeviceCaps } from '../../gpu/caps.js';
import { overLimit, ruleProblem } from '../common.js';
import type { BoundKernel, ConfigProblem, TensorBuffers } from '../types.js';
import type { LinearShape } from './shape.js';

/** Storage buffers every linear kernel binds: q, k, v, g, β, s0, o, sT. */
export const LINEAR_STORAGE_BUFFERS = 8;

/**
 * The element type of the stored tensors is a WGSL alias (`alias elem = f32;`): f16 storage swaps
 * it and enables the extension, so the f32 module that runs everywhere is the f16 one's twin.
 */
export function withStorage(code: string, storage: 'f32' | 'f16'): string {
  const alias = /^alias elem = f32;$/m;
  if (!alias.test(code)) throw new Error('linear shader declares no `alias elem = f32;`');
  return storage === 'f16' ? `enable f16;\n${code.replace(alias, 'alias elem = f16;')}` : code;
}

/** Checks shared by the linear kernels: storage type against the variant, buffer sizes, grid. */
export function linearProblems(s: LinearShape, caps: DeviceCaps, storage: 'f32' | 'f16', kernel: string, workgroupsY: number): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (s.storage !== storage) {
    problems.push(
      ruleProblem(
        'storage',
        s.storage === 'f16' ? 16 : 32,
        storage === 'f16' ? 16 : 32,
        `${kernel} reads ${storage} storage; this shape stores ${s.storage} (use the ${s.storage} variant)`,
      ),
    );
  }
  const e = s.storage === 'f16' ? 2 : 4;
  const tokens = s.batch * s.heads * s.seqK;
  const largest = Math.max(tokens * Math.max(s.dk, s.dv) * e, s.batch * s.heads * s.dk * s.dv * 4);
  problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', largest, 'the largest tensor'));
  problems.push(...overLimit(caps, 'maxBufferSize', largest, 'the largest tensor'));
  problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', LINEAR_STORAGE_BUFFERS, 'q, k, v, g, β, s0, o and sT'));
  problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', workgroupsY, `one workgroup row per (batch, head): batch·heads = ${workgroupsY}`));
  return problems;
}

/** The uniform every linear shader reads: the sequence length (one pipeline serves every T). */
export function createSeqParams(device: GPUDevice, s: LinearShape): GPUBuffer {
  const buffer = device.createBuffer({ label: 'linear params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, new Uint32Array([s.seqK, 0, 0, 0]));
  return buffer;
}

/** The problem's tensors in binding order; gla has no β, so g stands in (read-only aliasing is allowed). */
export function linearBindings(params: GPUBuffer, t: TensorBuffers): GPUBuffer[] {
  return [params, t.q!, t.k!, t.v!, t.g!, t.beta ?? t.g!, t.s0!, t.o!, t.sT!];
}

/** params, then q, k, v, g, β (or g again) and s0 read, o and sT written. */
export const LINEAR_BINDING_KINDS = bindingKinds(6, 2);

/** One dispatch of a chunked kernel: its pipeline, bind group and grid width (the grid's height is batch·heads). */
export interface ChunkedPass {
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  workgroupsX: number;
}

/**
 * A chunked kernel's two dispatches, pass 1 over the chunks and the recurrence over the value tiles,
 * as one kernel and as the two stages the runner times alone (which of them the chunk size should
 * favour); `owned` are the buffers the binding made, destroyed with it.
 */
export function chunkedPasses(s: LinearShape, chunks: ChunkedPass, recurrence: ChunkedPass, owned: readonly GPUBuffer[]): BoundKernel {
  const dispatch = (p: ChunkedPass) => (pass: GPUComputePassEncoder) => {
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, p.group);
    pass.dispatchWorkgroups(p.workgroupsX, s.batch * s.heads);
  };
  const first = dispatch(chunks);
  const second = dispatch(recurrence);
  return {
    encode(pass) {
      first(pass);
      second(pass);
    },
    stages: [
      { name: 'chunks', encode: first },
      { name: 'recurrence', encode: second },
    ],
    destroy() {
      for (const b of owned) b.destroy();
    },
  };
}

/**
 * Compiles a chunked kernel's two shaders at once; with them, what its prepared kernel reports: the
 * longer compile (zero where cached) and both shaders for the page's shader view.
 */
export async function compileChunkedPasses(
  device: GPUDevice,
  label: string,
  code: { prepare: string; recur: string },
  bindings: { prepare: readonly BindingKind[]; recur: readonly BindingKind[] },
): Promise<{ prep: CompiledPipeline; recur: CompiledPipeline; compileMs: number; cached: boolean; shaders: { label: string; code: string }[] }> {
  const [prep, recur] = await Promise.all([
    compilePipeline(device, { label: `${label} prepare`, code: code.prepare, bindings: bindings.prepare }),
    compilePipeline(device, { label: `${label} recur`, code: code.recur, bindings: bindings.recur }),
  ]);
  const pipelines = [prep, recur];
  return {
    prep,
    recur,
    compileMs: Math.max(...pipelines.map((p) => (p.cached ? 0 : p.compileMs))),
    cached: pipelines.every((p) => p.cached),
    shaders: pipelines.map((p) => ({ label: p.label, code: p.code })),
  };
}
