import type { Tolerance } from '../harness/compare.js';
import type { DeviceCaps } from '../gpu/caps.js';
import type { ResolvedShape } from './dense/shape.js';

/** Tile parameters of one kernel configuration, by tunable key (e.g. { br: 64, bc: 32, wg: 128, rowThreads: 8 }). */
export type Tiles = Record<string, number>;

export interface Tunable {
  /** Key in Tiles and on the command line (e.g. "br"). */
  key: string;
  /** Label on the page (e.g. "Query tile (Br)"). */
  label: string;
  /** What it changes, in one sentence. */
  help: string;
  /** Every value the kernel accepts; the device check may refuse some of them. */
  values: readonly number[];
}

/** One reason a configuration cannot run on a device, naming the limit and the numbers. */
export interface ConfigProblem {
  /** The WebGPU limit or kernel rule broken (e.g. "maxComputeWorkgroupStorageSize"). */
  limit: string;
  /** The value the configuration needs. */
  requested: number;
  /** What the device (or rule) allows. */
  available: number;
  message: string;
}

/** A storage buffer a kernel allocates beyond Q, K, V and O. */
export interface ScratchBuffer {
  name: string;
  bytes: number;
}

/** GPU buffers every kernel binds. */
export interface AttentionBuffers {
  params: GPUBuffer;
  q: GPUBuffer;
  k: GPUBuffer;
  v: GPUBuffer;
  o: GPUBuffer;
}

/** A kernel bound to buffers: records its dispatches into a compute pass. */
export interface BoundKernel {
  encode(pass: GPUComputePassEncoder): void;
  /** Frees the kernel's scratch buffers (not the shared tensors). */
  destroy(): void;
}

/** Pipelines of one configuration, compiled and ready to bind. */
export interface PreparedKernel {
  /** Wall time of asynchronous pipeline creation; 0 when every pipeline came from the cache. */
  compileMs: number;
  /** True when every pipeline came from this device's cache. */
  cached: boolean;
  bind(buffers: AttentionBuffers): BoundKernel;
}

/**
 * Everything known about one kernel, in one place: its shaders and tunables, the checks of a
 * configuration against a device, its cost model, and how to build its pipelines. The harness,
 * the CLI, the page and the tests all read this.
 */
export interface KernelDescriptor {
  name: string;
  title: string;
  description: string;
  tunables: readonly Tunable[];
  /**
   * Values the autotuner searches, by tunable; tunables not listed stay at the default for the
   * device. Narrower than `tunables` where measurements showed whole ranges never win, so that
   * an exhaustive sweep of it stays affordable. Absent: every value of every tunable.
   */
  searchSpace?: Readonly<Record<string, readonly number[]>>;
  /** Features the kernel cannot run without. */
  requiredFeatures: readonly string[];
  /** Precision of storage and products: decides the tolerance against the reference. */
  precision: 'f32' | 'f16';
  tolerance: Tolerance;
  /** A configuration that passes check() for this shape on this device (measured defaults where they fit). */
  defaultTiles(shape: ResolvedShape, caps: DeviceCaps): Tiles;
  /** Problems that keep the configuration from running; empty when it can run. */
  check(shape: ResolvedShape, tiles: Tiles, caps: DeviceCaps): ConfigProblem[];
  /** Floating-point operations counted as useful: 4·d per unmasked (query, key) pair. */
  flops(shape: ResolvedShape): number;
  /** Bytes the kernel moves through global memory, by its own access pattern. */
  bytesMoved(shape: ResolvedShape, tiles: Tiles): number;
  /** Buffers beyond Q, K, V and O that the kernel allocates. */
  scratch(shape: ResolvedShape, tiles: Tiles): ScratchBuffer[];
  /** Builds the pipelines; rejects with the compiler's messages when a shader does not compile. */
  prepare(device: GPUDevice, shape: ResolvedShape, tiles: Tiles, caps: DeviceCaps): Promise<PreparedKernel>;
}
