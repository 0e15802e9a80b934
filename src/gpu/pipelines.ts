import { GpuError } from '../errors.js';

export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

/** The usual layout: one uniform block, then `readOnly` read-only and `writable` read-write storage buffers. */
export function bindingKinds(readOnly: number, writable: number): BindingKind[] {
  return ['uniform', ...Array<BindingKind>(readOnly).fill('read-only-storage'), ...Array<BindingKind>(writable).fill('storage')];
}

export interface PipelineSpec {
  label: string;
  code: string;
  /** Binding i of group 0 has kind bindings[i]; every binding is visible to the compute stage. */
  bindings: readonly BindingKind[];
}

export interface CompiledPipeline {
  label: string;
  /** The WGSL as compiled. */
  code: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Wall time to create this pipeline (asynchronously), measured when it was first built. */
  compileMs: number;
  cached: boolean;
}

type Entry = Promise<Omit<CompiledPipeline, 'cached' | 'label' | 'code'>>;
const cache = new WeakMap<GPUDevice, Map<string, Entry>>();

/**
 * Creates a compute pipeline with an explicit bind-group layout, asynchronously, so compilation
 * never lands inside a timed region. Pipelines are cached per device by source and layout: live
 * tile editing on the page re-uses every configuration it has already compiled.
 */
export async function compilePipeline(device: GPUDevice, spec: PipelineSpec): Promise<CompiledPipeline> {
  let perDevice = cache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    cache.set(device, perDevice);
  }
  const key = `${spec.bindings.join(',')}\n${spec.code}`;
  const hit = perDevice.get(key);
  if (hit) return { ...(await hit), cached: true, label: spec.label, code: spec.code };
  const entry = build(device, spec);
  perDevice.set(key, entry);
  try {
    return { ...(await entry), cached: false, label: spec.label, code: spec.code };
  } catch (error) {
    perDevice.delete(key);
    throw error;
  }
}

async function build(device: GPUDevice, spec: PipelineSpec): Entry {
  const start = performance.now();
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: spec.label, code: spec.code });
  const layout = device.createBindGroupLayout({
    label: spec.label,
    entries: spec.bindings.map((kind, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: kind },
    })),
  });
  const scopeError = await device.popErrorScope();
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0 || scopeError) {
    throw new GpuError(`${spec.label}: shader does not compile\n${formatMessages(errors, spec.code) || scopeError?.message}`);
  }
  let pipeline: GPUComputePipeline;
  try {
    pipeline = await device.createComputePipelineAsync({
      label: spec.label,
      layout: device.createPipelineLayout({ label: spec.label, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
  } catch (error) {
    throw new GpuError(`${spec.label}: pipeline creation failed: ${(error as Error).message}`);
  }
  return { pipeline, layout, compileMs: performance.now() - start };
}

function formatMessages(messages: readonly GPUCompilationMessage[], code: string): string {
  const lines = code.split('\n');
  return messages.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`).join('\n');
}

/** Binds buffers to a layout, in binding order. */
export function bindBuffers(device: GPUDevice, label: string, layout: GPUBindGroupLayout, buffers: readonly GPUBuffer[]): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout,
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}
