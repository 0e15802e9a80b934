// Public API of the harness: the same module runs in Node (through the `webgpu` package) and in
// the browser. See the README's "Library" section.
export { createDevice, type AttentionDevice, type AdapterSummary, type CreateDeviceOptions, isSoftwareAdapter } from './gpu/device.js';
export { type DeviceCaps, type DeviceLimits, DEFAULT_LIMITS, LIMIT_NAMES, defaultCaps } from './gpu/caps.js';
export { runAttention, runKernel, type RunOptions, type RunResult, type KernelRunOptions, type KernelRunResult } from './harness/run.js';
export { TensorSession, tensorBytes } from './gpu/tensors.js';
export {
  runConformanceCase,
  conformanceGroups,
  groupRefusal,
  type ConformanceCase,
  type ConformanceResult,
  type ConformanceGroupCase,
} from './harness/conformance.js';
export { benchmark, type BenchmarkConfig } from './harness/benchmark.js';
export { ShapeFixture, type ReferenceFn, DEFAULT_REFERENCE_BUDGET } from './harness/fixture.js';
export { referenceAttention, referenceSampleRows } from './attention/dense/reference.js';
export {
  compareOutputs,
  compareExpected,
  mergeComparisons,
  gatherRows,
  F32_TOLERANCE,
  F16_TOLERANCE,
  type Tolerance,
  type Comparison,
} from './harness/compare.js';
export { type AttentionInputs, randomInputs, validateInputs } from './attention/dense/inputs.js';
export {
  type AttentionShape,
  type ResolvedShape,
  resolveShape,
  tensorSizes,
  kvHeadOf,
  visibleKeys,
  unmaskedPairsPerHead,
  shapeLabel,
} from './attention/dense/shape.js';
export { FAMILIES, KERNELS, getKernel, kernelNames, getFamily, getProblem, familyNames } from './attention/registry.js';
export { denseProblem } from './attention/dense/problem.js';
export { fieldDefaults, checkFields, shapeKey } from './attention/fields.js';
export { toHalfBits, fromHalfBits, toHalfArray, fromHalfArray } from './attention/half.js';
export { recordShapeLabel, problemOf, shapeNumber } from './results/label.js';
export { tileSpace, tilesLabel, resolveTiles } from './attention/common.js';
export type {
  KernelDescriptor,
  Tiles,
  Tunable,
  ConfigProblem,
  ScratchBuffer,
  Problem,
  Family,
  ShapeField,
  ShapeValue,
  RawShape,
  TensorSpec,
  TensorRole,
  ElementType,
  HostTensor,
  HostTensors,
  Expected,
  ExpectedTensor,
  PreparedKernel,
  BoundKernel,
  ConformanceGroup,
} from './attention/types.js';
export { planRun, type RunPlan } from './harness/plan.js';
export { AttentionInputError, ConfigError, DeviceLimitError, GpuError, GpuTimeoutError, TileError } from './errors.js';
export { summarize, quantile, type TimingSummary } from './harness/stats.js';
export { specialize } from './wgsl/specialize.js';
export {
  ResultsFileSchema,
  ResultSchema,
  parseResultsFile,
  makeResultsFile,
  RESULTS_FORMAT,
  RESULTS_VERSION,
  type ResultRecord,
  type ResultsFile,
  type ResultsContext,
} from './results/schema.js';
export { toCsv, CSV_COLUMNS } from './results/csv.js';
export { type Ceilings, CeilingsSchema, intensityOf, computeRoof, rooflineBound, rooflineFraction, withRoofline } from './results/roofline.js';
export { measureCeilings, cachedCeilings, type CeilingOptions, GPU_PROBES, SOFTWARE_PROBES } from './harness/ceilings.js';
export { resultsContext, TOOL } from './results/context.js';
export { autotune, neighboursOf, type AutotuneOptions, type KernelTuning } from './harness/autotune.js';
export { parseFieldList, formatFieldList, outOfRange, MAX_SWEEP_VALUES } from './attention/field-text.js';
