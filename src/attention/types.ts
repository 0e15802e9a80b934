import type { Tolerance } from '../harness/compare.js';
import type { DeviceCaps } from '../gpu/caps.js';

/*
 * The two descriptions everything else reads.
 *
 * A Problem is one attention family (dense, decode, sparse, linear): what its shape is made of,
 * which tensors a call reads and writes, how to make inputs, the float64 reference, the useful
 * work and the least memory traffic any kernel must pay, the tolerance rule, and the shapes that
 * try to break a kernel. A KernelDescriptor is one way to compute a Problem on the GPU: its
 * shaders, tunables, device check, byte model, scratch and conformance tiles.
 *
 * The harness (session, benchmark, autotune), the command-line runner, the page and the tests are
 * written against these two interfaces only: a new family is a folder with a problem.ts and its
 * kernels, and one line in src/attention/registry.ts.
 */

/** A value of one shape field. */
export type ShapeValue = number | boolean | string | readonly number[];

/** A family's raw shape: field key → value, before defaults and checks. */
export type RawShape = Readonly<Record<string, ShapeValue | undefined>>;

interface FieldCommon {
  /** Property of the shape object (e.g. "seqK"). */
  key: string;
  /** Command-line flag without the dashes (e.g. "seq"). Every field takes a comma-separated list, crossed with the others. */
  flag: string;
  /** Query-string key on the page (e.g. "n"). */
  url: string;
  /** Label on the page, also its accessible name (e.g. "Sequence lengths"). */
  label: string;
  /** One sentence for --help and the page's tooltip. */
  help: string;
  /**
   * 'default': the field was added after results were stored, and a stored record without it is
   * read with the field's default (what it ran); without this, a record missing the field is invalid.
   */
  absent?: 'default';
}

export interface IntField extends FieldCommon {
  kind: 'int';
  min: number;
  max: number;
  /** A number, or the key of another int field whose value this one takes (e.g. kvHeads follows heads). */
  default: number | { sameAs: string };
}

export interface BoolField extends FieldCommon {
  kind: 'bool';
  default: boolean;
}

export interface ChoiceField extends FieldCommon {
  kind: 'choice';
  choices: readonly string[];
  default: string;
}

/** A list of ints in one case (e.g. one context length per batch element): "a:b:c" on the command line. */
export interface IntListField extends FieldCommon {
  kind: 'int-list';
  min: number;
  max: number;
  maxLength: number;
  default: readonly number[];
}

export type ShapeField = IntField | BoolField | ChoiceField | IntListField;

export type TensorRole =
  /** Uploaded once, read by the kernel. */
  | 'input'
  /** Integer indices (block tables, top-k indices): uploaded, validated against what they index before any dispatch. */
  | 'index'
  /** Written by the kernel, read back and checked against the reference. */
  | 'output'
  /** Uploaded, read and written in place (a recurrent state, a compacted cache), read back and checked. */
  | 'state';

export type ElementType = 'f32' | 'f16' | 'u32' | 'i32';

export interface TensorSpec {
  name: string;
  role: TensorRole;
  type: ElementType;
  /** Dimensions, outermost first (row-major). */
  dims: readonly number[];
  /** What the dims are, for messages and the page (e.g. "batch·heads·seqQ·headDim"). */
  layout: string;
}

/** Host data of one tensor: Float32Array for f32, Uint16Array (IEEE half bits) for f16, Uint32Array / Int32Array for indices. */
export type HostTensor = Float32Array | Uint16Array | Uint32Array | Int32Array;

export type HostTensors = Readonly<Record<string, HostTensor>>;

/** Expected values of one checked tensor: every element, or whole rows of `rowWidth` elements. */
export interface ExpectedTensor {
  values: Float64Array;
  /** Row indices (in units of rowWidth elements) the values cover, in order; absent: the whole tensor. */
  rows?: readonly number[];
  rowWidth: number;
}

export type Expected = Readonly<Record<string, ExpectedTensor>>;

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

/**
 * One attention family. `S` is its resolved shape: every field filled in and checked.
 */
export interface Problem<S extends object = object> {
  /** Short name, stored in results files (e.g. "dense"). */
  family: string;
  title: string;
  description: string;
  fields: readonly ShapeField[];
  /**
   * The field swept by the page's length list and plotted on the x axis (e.g. "seqK"); every other
   * field holds one value per page configuration.
   */
  axis: string;
  /** Fills defaults and checks every field and their consistency; throws AttentionInputError naming the field and the limit. */
  resolve(raw: RawShape): S;
  /** A compact label such as "B1 H8/2 N256 d64 causal". */
  label(shape: S): string;
  tensors(shape: S): TensorSpec[];
  /** Seeded inputs for every input, index and state tensor (realistic where it matters: scattered block tables, normalized keys). */
  inputs(shape: S, seed: number): Record<string, HostTensor>;
  /** Checks inputs against the shape and each other (sizes, finiteness, indices in range) before any GPU work. */
  validate(shape: S, inputs: HostTensors): void;
  /**
   * The float64 reference for the output and state tensors. `budget` is the multiply-adds it may
   * spend; past that it covers a fixed sample of rows (the same on every run).
   */
  reference(shape: S, inputs: HostTensors, budget: number): Expected;
  /** What reference(shape, …, budget) covers, in words (e.g. "96 of 8192 rows (sampled)"); absent: every output. */
  referenceCoverage?(shape: S, budget: number): string;
  /** Useful floating-point operations of one call (work any exact kernel must do). */
  flops(shape: S): number;
  /** Bytes any kernel must move at least: every input read once, every output written once, in its stored type. */
  minimalBytes(shape: S): number;
  /** Shapes that try to break a kernel (odd sizes, length 1, the family's edge cases), with `fixed` fields held (e.g. the head dim a tile configuration needs). */
  conformanceShapes(fixed: RawShape): S[];
}

/** Tile parameters of one configuration, by tunable key. */
export type Tiles = Readonly<Record<string, number>>;

export interface Tunable<K extends string = string> {
  /** Key in the tiles and on the command line (e.g. "br"). */
  key: K;
  /** Label on the page (e.g. "Query tile (Br)"). */
  label: string;
  help: string;
  /** Every value the kernel accepts; the device check may refuse some of them. */
  values: readonly number[];
  /**
   * The value that reproduces what ran before this tunable existed, for a tunable added after results
   * were recorded without it: a stored record that lacks the key is read as having this value (so
   * baseline matching and the shader view see what ran, not today's default). Only where that
   * value's shader is the old one, byte for byte.
   */
  absent?: number;
}

/** A storage buffer a kernel allocates beyond the problem's tensors. */
export interface ScratchBuffer {
  name: string;
  bytes: number;
}

/** The problem's tensors on the GPU, by name. */
export type TensorBuffers = Readonly<Record<string, GPUBuffer>>;

/** A kernel bound to buffers: records its dispatches into a compute pass. */
export interface BoundKernel {
  encode(pass: GPUComputePassEncoder): void;
  /**
   * The kernel's passes by name (e.g. a top-k pipeline's indexer, selection and attention), each
   * encoding exactly its share of encode()'s dispatches, so the harness can time them one by one
   * and report where the time goes. Absent for single-pass kernels.
   */
  stages?: readonly KernelStage[];
  /** Frees what bind() allocated (scratch, uniforms), not the problem's tensors. */
  destroy(): void;
}

/** One named part of a multi-pass kernel's dispatches. */
export interface KernelStage {
  name: string;
  encode(pass: GPUComputePassEncoder): void;
}

/** Pipelines of one configuration, compiled and ready to bind. */
export interface PreparedKernel {
  /** Wall time of asynchronous pipeline creation; 0 when every pipeline came from the cache. */
  compileMs: number;
  cached: boolean;
  /** The WGSL of each pipeline as compiled (constants substituted, loops unrolled), by label. */
  shaders: readonly { label: string; code: string }[];
  bind(tensors: TensorBuffers): BoundKernel;
}

/** Tile configurations the conformance matrix runs, with the shape fields they hold fixed. */
export interface ConformanceGroup<T extends Tiles = Tiles> {
  fixed: RawShape;
  tiles: readonly Partial<T>[];
}

/**
 * One kernel for one problem. `T` is its own tiles type (e.g. { br, bc, wg, … }), so the kernel's
 * code reads its tunables without casts; the harness sees Tiles.
 */
export interface KernelDescriptor<S extends object = any, T extends Tiles = any> {
  name: string;
  title: string;
  description: string;
  problem: Problem<S>;
  tunables: readonly Tunable<Extract<keyof T, string>>[];
  /**
   * Values the autotuner searches, by tunable; tunables not listed stay at the device default.
   * Absent: every value of every tunable.
   */
  searchSpace?: Readonly<Partial<Record<Extract<keyof T, string>, readonly number[]>>>;
  /** Features the kernel cannot run without. */
  requiredFeatures: readonly string[];
  /** Precision of storage and products: decides the tolerance against the reference. */
  precision: 'f32' | 'f16';
  tolerance: Tolerance;
  /** A configuration that passes check() for this shape on this device (measured defaults where they fit). */
  defaultTiles(shape: S, caps: DeviceCaps): T;
  /** Problems that keep the configuration from running; empty when it can run. */
  check(shape: S, tiles: T, caps: DeviceCaps): ConfigProblem[];
  /** Bytes the kernel moves through global memory, by its own access pattern. */
  bytesMoved(shape: S, tiles: T): number;
  /** Buffers beyond the problem's tensors that the kernel allocates. */
  scratch(shape: S, tiles: T): ScratchBuffer[];
  /** Builds the pipelines; rejects with the compiler's messages when a shader does not compile. */
  prepare(device: GPUDevice, shape: S, tiles: T, caps: DeviceCaps): Promise<PreparedKernel>;
  /** The conformance matrix of this kernel: tile configurations, each run on the problem's conformance shapes. */
  conformance: readonly ConformanceGroup<T>[];
}

/** A family: its problem and every kernel that computes it (src/attention/<family>/index.ts). */
export interface Family {
  problem: Problem<any>;
  kernels: readonly KernelDescriptor[];
}
