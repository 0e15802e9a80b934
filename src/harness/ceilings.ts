/**
 * Device ceilings, measured here rather than read from a datasheet: the copy bandwidth a kernel
 * can reach through WebGPU on this device, and the multiply-add rates of f32, f16 and the matrix
 * units. The roofline (src/results/roofline.ts) places each run between them.
 *
 * Each probe is a small WGSL kernel, timed like a benchmark case: warm-up until the time per
 * dispatch settles (src/harness/warmup.ts), then samples with the harness's timer (GPU timestamps
 * when the device has them, else the host clock); a probe reports its best sample, since a ceiling
 * is what the device can do, not what it usually does.
 */
import { AttentionInputError, GpuError } from '../errors.js';
import { type AttentionDevice, assertUsable } from '../gpu/device.js';
import { compilePipeline } from '../gpu/pipelines.js';
import { guarded } from '../gpu/session.js';
import { GpuTimer, isCoarse, timestampQuantumNs } from '../gpu/timer.js';
import { withTimeout } from '../gpu/timeout.js';
import type { BoundKernel } from '../attention/types.js';
import { mmaConfig } from '../attention/dense/flash-mma/kernel.js';
import { specialize, unrollLoops } from '../wgsl/specialize.js';
import type { Ceilings } from '../results/roofline.js';
import { warmUntilSettled } from './warmup.js';
import copySource from './ceilings/copy.wgsl?raw';
import fmaSource from './ceilings/fma.wgsl?raw';
import mmaSource from './ceilings/mma.wgsl?raw';

export type { Ceilings } from '../results/roofline.js';

const MiB = 1 << 20;
const GiB = 1 << 30;

export interface CeilingOptions {
  /** Bytes of each copy buffer (source and destination alike); each is capped by the device's limits. */
  copySizes?: number[];
  /** Workgroups of the compute probes (256 invocations each for f32/f16). */
  computeWorkgroups?: number;
  /** Multiply-add steps per chain. */
  iterations?: number;
  /** Timed samples per probe (the best counts). */
  samples?: number;
  /** Least warm-up per probe, ms. */
  warmupMs?: number;
  timeoutMs?: number;
}

/**
 * What a GPU gets: buffers up to 1 GiB, a million invocations × 8 vec4 chains (≈17 GFLOP per f32
 * dispatch). Copies start at 256 MiB: a smaller one stays in a large L2 (an H200 copied 16 MiB at
 * 5205 GB/s against 4202 GB/s at 1 GiB), which is not the memory's bandwidth.
 */
export const GPU_PROBES: Required<CeilingOptions> = {
  copySizes: [256 * MiB, 512 * MiB, GiB],
  computeWorkgroups: 4096,
  iterations: 256,
  samples: 8,
  warmupMs: 100,
  timeoutMs: 60_000,
};

/** A software adapter's numbers say nothing about GPUs: small probes that finish in seconds on a CPU. */
export const SOFTWARE_PROBES: Required<CeilingOptions> = {
  copySizes: [MiB, 4 * MiB],
  computeWorkgroups: 16,
  iterations: 64,
  samples: 3,
  warmupMs: 0,
  timeoutMs: 60_000,
};

const COPY_WORKGROUP = 256;
const COPY_ITEMS = 4;
const FMA_WORKGROUP = 256;
const FMA_CHAINS = 8;
const MMA_SUBGROUPS = 4;
export const MMA_ACCUMULATORS = 4;
/** Samples should span this long, so timestamp rounding and launch overhead stay small. */
const SAMPLE_NS = 2_000_000;
const MAX_DISPATCHES = 256;

const cache = new WeakMap<GPUDevice, Map<string, Promise<Ceilings>>>();

/**
 * Measures (once per device and options; later calls get the same promise) the copy bandwidth
 * and the compute rates. f16 is measured only with shader-f16, the matrix units only with
 * subgroup matrices offering an f16→f32 configuration and a fixed subgroup size.
 */
export function measureCeilings(gpu: AttentionDevice, options: CeilingOptions = {}): Promise<Ceilings> {
  assertUsable(gpu);
  const settings = { ...(gpu.adapter.software ? SOFTWARE_PROBES : GPU_PROBES), ...options };
  checkOptions(settings);
  let perDevice = cache.get(gpu.device);
  if (!perDevice) cache.set(gpu.device, (perDevice = new Map()));
  const key = JSON.stringify(settings);
  let entry = perDevice.get(key);
  if (!entry) {
    entry = probeAll(gpu, settings);
    perDevice.set(key, entry);
    // A failed measurement is not cached: the next call tries again.
    entry.catch(() => perDevice.delete(key));
  }
  return entry;
}

/** The ceilings already measured on this device with default options, or undefined. */
export function cachedCeilings(gpu: AttentionDevice): Promise<Ceilings> | undefined {
  const settings = gpu.adapter.software ? SOFTWARE_PROBES : GPU_PROBES;
  return cache.get(gpu.device)?.get(JSON.stringify(settings));
}

function checkOptions(o: Required<CeilingOptions>): void {
  const bad = (what: string, value: unknown, limit: string) => new AttentionInputError(`measureCeilings: ${what} must be ${limit}, got ${String(value)}`);
  if (o.copySizes.length === 0 || o.copySizes.some((s) => !Number.isSafeInteger(s) || s < 4096 || s % 16 !== 0))
    throw bad('copySizes', o.copySizes, 'multiples of 16 bytes, at least 4096');
  if (!Number.isInteger(o.computeWorkgroups) || o.computeWorkgroups < 1 || o.computeWorkgroups > 65535)
    throw bad('computeWorkgroups', o.computeWorkgroups, 'a whole number from 1 to 65535');
  if (!Number.isInteger(o.iterations) || o.iterations < 1 || o.iterations > 1 << 20) throw bad('iterations', o.iterations, 'a whole number from 1 to 1048576');
  if (!Number.isInteger(o.samples) || o.samples < 1 || o.samples > 1000) throw bad('samples', o.samples, 'a whole number from 1 to 1000');
}

async function probeAll(gpu: AttentionDevice, o: Required<CeilingOptions>): Promise<Ceilings> {
  const { limits, features } = gpu.caps;
  const cap = Math.min(GiB, limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  // Sizes past the device's limit collapse onto it (rounded down to whole workgroup spans).
  const sizes = [...new Set(o.copySizes.map((s) => Math.floor(Math.min(s, cap) / 16) * 16))].sort((a, b) => a - b);
  const copies: { bytes: number; gbps: number }[] = [];
  const unallocated: number[] = [];
  for (const bytes of sizes) {
    const gbps = await copyProbe(gpu, bytes, o);
    // A device may grant a binding size it cannot back twice over (SwiftShader grants 1 GiB):
    // the larger sizes are left out, and the file says which.
    if (gbps === null) unallocated.push(bytes);
    else copies.push({ bytes, gbps });
  }
  if (copies.length === 0) throw new Error(`ceiling probe: no copy buffers of ${sizes.join(', ')} bytes could be allocated`);
  const best = copies.reduce((a, b) => (b.gbps > a.gbps ? b : a));
  const invocations = o.computeWorkgroups * FMA_WORKGROUP;
  const out: Ceilings = {
    copyGBps: best.gbps,
    f32Tflops: await fmaProbe(gpu, 'f32', o),
    probes: {
      copy: copies,
      ...(unallocated.length > 0 ? { copyUnallocated: unallocated } : {}),
      compute: { invocations, chains: FMA_CHAINS * 4, iterations: o.iterations },
      method: new GpuTimer(gpu).hasTimestamps ? 'timestamp' : 'wall',
    },
  };
  if (features.includes('shader-f16')) out.f16Tflops = await fmaProbe(gpu, 'f16', o);
  const mma = mmaSetup(gpu);
  if (mma) {
    out.mmaTflops = await mmaProbe(gpu, mma, o);
    out.probes.mma = { M: mma.M, N: mma.N, K: mma.K, subgroupSize: mma.subgroupSize };
  }
  return out;
}

/** The copy pipeline for buffers of `bytes` and its grid (exported for the test that checks it copies every vector). */
export async function copyPipeline(
  device: GPUDevice,
  bytes: number,
  maxPerDimension: number,
): Promise<{ pipeline: GPUComputePipeline; layout: GPUBindGroupLayout; x: number; y: number }> {
  const vectors = bytes / 16;
  const groups = Math.ceil(vectors / (COPY_WORKGROUP * COPY_ITEMS));
  const [x, y] = grid(groups, maxPerDimension);
  const code = unrollLoops(specialize(copySource, { VECTORS: vectors, WORKGROUP_SIZE: COPY_WORKGROUP, ITEMS: COPY_ITEMS, GRID_X: x }), { ITEMS: COPY_ITEMS });
  const compiled = await compilePipeline(device, { label: 'ceiling: copy', code, bindings: ['read-only-storage', 'storage'] });
  return { pipeline: compiled.pipeline, layout: compiled.layout, x, y };
}

/** GB/s of a copy of `bytes` (read + written), or null when the two buffers cannot be allocated. */
async function copyProbe(gpu: AttentionDevice, bytes: number, o: Required<CeilingOptions>): Promise<number | null> {
  const { device } = gpu;
  const copy = await copyPipeline(device, bytes, gpu.caps.limits.maxComputeWorkgroupsPerDimension);
  const usage = GPUBufferUsage.STORAGE;
  const made: GPUBuffer[] = [];
  try {
    await guarded(gpu, `allocating two ${bytes}-byte copy buffers`, () => {
      made.push(device.createBuffer({ label: 'ceiling copy src', size: bytes, usage }));
      made.push(device.createBuffer({ label: 'ceiling copy dst', size: bytes, usage }));
    });
  } catch (error) {
    for (const b of made) b.destroy();
    if (error instanceof GpuError && /OutOfMemory|out of memory/i.test(error.message)) return null;
    throw error;
  }
  const buffers = made;
  try {
    const bind = device.createBindGroup({ layout: copy.layout, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const ns = await timeBest(gpu, kernelOf(copy.pipeline, bind, copy.x, copy.y), o);
    return (2 * bytes) / ns;
  } finally {
    for (const b of buffers) b.destroy();
  }
}

/** TFLOP/s of the multiply-add chains (2 FLOPs each). */
async function fmaProbe(gpu: AttentionDevice, scalar: 'f32' | 'f16', o: Required<CeilingOptions>): Promise<number> {
  let code = specialize(fmaSource, { WORKGROUP_SIZE: FMA_WORKGROUP, CHAINS: FMA_CHAINS, ITERATIONS: o.iterations });
  if (scalar === 'f16') code = `enable f16;\n${code.replace('alias SCALAR = f32;', 'alias SCALAR = f16;')}`;
  code = unrollLoops(code, { CHAINS: FMA_CHAINS });
  const flops = 2 * 4 * FMA_CHAINS * o.iterations * o.computeWorkgroups * FMA_WORKGROUP;
  return computeProbe(gpu, `ceiling: ${scalar} fma`, code, o.computeWorkgroups, flops, o);
}

export interface MmaSetup {
  M: number;
  N: number;
  K: number;
  subgroupSize: number;
}

/** The f16→f32 matrix shape flash-mma uses, when the device has one and a fixed subgroup size (to count subgroups). */
export function mmaSetup(gpu: Pick<AttentionDevice, 'caps'>): MmaSetup | undefined {
  const { caps } = gpu;
  const config = caps.features.includes('chromium-experimental-subgroup-matrix') ? mmaConfig(caps) : undefined;
  if (!config || caps.subgroupMinSize !== caps.subgroupMaxSize || caps.subgroupMaxSize === 0) return undefined;
  return { M: config.M, N: config.N, K: config.K, subgroupSize: caps.subgroupMaxSize };
}

/** The matrix-unit probe's WGSL (pure: tests read it). */
export function mmaProbeCode(mma: MmaSetup, iterations: number): string {
  const workgroupSize = MMA_SUBGROUPS * mma.subgroupSize;
  const operand = Math.max(mma.M * mma.K, mma.K * mma.N);
  return unrollLoops(
    specialize(mmaSource, {
      SG_M: mma.M,
      SG_N: mma.N,
      SG_K: mma.K,
      WORKGROUP_SIZE: workgroupSize,
      ACCUMULATORS: MMA_ACCUMULATORS,
      ITERATIONS: iterations,
      OPERAND: operand,
    }),
    { ACCUMULATORS: MMA_ACCUMULATORS },
  );
}

async function mmaProbe(gpu: AttentionDevice, mma: MmaSetup, o: Required<CeilingOptions>): Promise<number> {
  const code = mmaProbeCode(mma, o.iterations);
  // ITERATIONS × ACCUMULATORS products per subgroup, every one of them live (each accumulator is stored).
  const products = o.iterations * MMA_ACCUMULATORS;
  const flops = 2 * mma.M * mma.N * mma.K * products * MMA_SUBGROUPS * o.computeWorkgroups;
  return computeProbe(gpu, 'ceiling: subgroup-matrix f16→f32', code, o.computeWorkgroups, flops, o);
}

async function computeProbe(gpu: AttentionDevice, label: string, code: string, groups: number, flops: number, o: Required<CeilingOptions>): Promise<number> {
  const { device } = gpu;
  const compiled = await compilePipeline(device, { label, code, bindings: ['storage'] });
  const sink = device.createBuffer({ label: `${label} sink`, size: 16, usage: GPUBufferUsage.STORAGE });
  try {
    const bind = device.createBindGroup({ layout: compiled.layout, entries: [{ binding: 0, resource: { buffer: sink } }] });
    const ns = await timeBest(gpu, kernelOf(compiled.pipeline, bind, groups, 1), o);
    return flops / ns / 1e3;
  } finally {
    sink.destroy();
  }
}

/** Splits a workgroup count over x and y within the per-dimension limit. */
export function grid(groups: number, maxPerDimension: number): [number, number] {
  if (groups <= maxPerDimension) return [groups, 1];
  const y = Math.ceil(groups / maxPerDimension);
  return [Math.ceil(groups / y), y];
}

function kernelOf(pipeline: GPUComputePipeline, bind: GPUBindGroup, x: number, y: number): BoundKernel {
  return {
    encode(pass) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(x, y);
    },
    destroy() {},
  };
}

/** Best time of one dispatch in ns: warm-up until settled, then samples of enough dispatches to span SAMPLE_NS. */
async function timeBest(gpu: AttentionDevice, kernel: BoundKernel, o: Required<CeilingOptions>): Promise<number> {
  const { device } = gpu;
  const submit = async (n: number) => {
    const start = performance.now();
    await guarded(gpu, 'a ceiling probe', () => {
      const encoder = device.createCommandEncoder({ label: 'ceiling probe' });
      const pass = encoder.beginComputePass();
      for (let i = 0; i < n; i++) kernel.encode(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
    });
    await withTimeout(device.queue.onSubmittedWorkDone(), o.timeoutMs, 'a ceiling probe');
    return performance.now() - start;
  };
  const software = gpu.adapter.software;
  const warm = await warmUntilSettled(submit, { minMs: o.warmupMs, maxMs: software ? o.warmupMs : 3000, maxDispatches: MAX_DISPATCHES });
  const timer = new GpuTimer(gpu);
  const estimateNs = Math.max(1, warm.perDispatchMs * 1e6);
  let dispatches = Math.min(MAX_DISPATCHES, Math.max(1, Math.ceil(SAMPLE_NS / estimateNs)));
  if (software) dispatches = 1;
  let samples = timer.hasTimestamps ? await timer.timestamps(kernel, o.samples, dispatches, o.timeoutMs) : [];
  const quantum = timestampQuantumNs(samples);
  if (samples.length > 0 && isCoarse(quantum) && estimateNs * dispatches < 50 * quantum && dispatches < MAX_DISPATCHES) {
    // Rounded timestamps (Chrome's 100 µs): samples long enough for 2% rounding error, as the benchmark does.
    dispatches = Math.min(MAX_DISPATCHES, Math.ceil((50 * quantum) / estimateNs));
    samples = await timer.timestamps(kernel, o.samples, dispatches, o.timeoutMs);
  }
  // Frozen timestamps: the host clock is all there is.
  if (samples.length === 0 || samples.every((s) => s.ns <= 0)) samples = await timer.wall(kernel, o.samples, dispatches, o.timeoutMs);
  const best = Math.min(...samples.filter((s) => s.ns > 0).map((s) => s.ns));
  if (!Number.isFinite(best)) throw new Error('ceiling probe: no sample advanced the clock');
  return best / dispatches;
}
