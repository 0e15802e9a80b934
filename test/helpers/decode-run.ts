// runKernel and planRun without the registry: on this branch importing src/attention/registry.ts
// (through src/index.ts, src/harness/plan.ts or run.ts) throws "Cannot access
// 'FLASH_CONFORMANCE_TILES' before initialization" in src/attention/dense/flash/kernel.ts (main's
// work in progress), so the decode tests plan and run a descriptor directly, the same way.
import { resolveTiles } from '../../src/attention/common.js';
import type { HostTensor, HostTensors, KernelDescriptor, RawShape, Tiles } from '../../src/attention/types.js';
import { type AttentionDevice, createDevice } from '../../src/gpu/device.js';
import type { DeviceCaps } from '../../src/gpu/caps.js';
import { TensorSession } from '../../src/gpu/tensors.js';
import { ConfigError } from '../../src/errors.js';

let shared: Promise<AttentionDevice> | undefined;
export function decodeDevice(): Promise<AttentionDevice> {
  shared ??= createDevice();
  return shared;
}

export function plan(caps: DeviceCaps, kernel: KernelDescriptor, shape: RawShape | object, tiles?: Partial<Tiles>) {
  const resolved = kernel.problem.resolve(shape as RawShape);
  const full = resolveTiles(kernel, kernel.defaultTiles(resolved, caps), tiles);
  const problems = kernel.check(resolved, full, caps);
  if (problems.length > 0) throw new ConfigError(kernel.name, problems);
  return { shape: resolved, tiles: full };
}

export async function run(gpu: AttentionDevice, kernel: KernelDescriptor, shape: RawShape | object, tiles?: Partial<Tiles>, given?: HostTensors) {
  const planned = plan(gpu.caps, kernel, shape, tiles);
  const inputs = given ?? kernel.problem.inputs(planned.shape, 1);
  kernel.problem.validate(planned.shape, inputs);
  const prepared = await kernel.prepare(gpu.device, planned.shape, planned.tiles, gpu.caps);
  const session = await TensorSession.create(gpu, kernel.problem.tensors(planned.shape));
  try {
    session.upload(inputs);
    session.poisonOutputs();
    const bound = prepared.bind(session.buffers);
    const encoder = gpu.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    bound.encode(pass);
    pass.end();
    gpu.device.queue.submit([encoder.finish()]);
    const outputs: Record<string, HostTensor> = await session.read(120_000);
    bound.destroy();
    return { ...planned, inputs, outputs };
  } finally {
    session.destroy();
  }
}
