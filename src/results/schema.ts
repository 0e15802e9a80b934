import { z } from 'zod';
import { FAMILIES } from '../attention/registry.js';
import type { ShapeField } from '../attention/types.js';
import { CeilingsSchema } from './roofline.js';

/**
 * The results file written by the command-line runner and the page, and read by both (import,
 * --compare, baselines). Readers ignore fields they do not know, so newer writers stay readable;
 * `version` changes only when a known field changes meaning.
 */
export const RESULTS_FORMAT = 'webgpu-attention-results';
export const RESULTS_VERSION = 2;
/** Versions this build reads: 1 (dense attention only, no family field) and 2 (a family per record). */
export const READABLE_VERSIONS = [1, 2] as const;

const finite = z.number().refine(Number.isFinite, 'must be finite');
const nullableNumber = z.number().nullable();

/** A family's resolved shape: its fields (see the family's problem), numbers, flags, choices or lists. */
export const ShapeSchema = z.record(z.string(), z.union([finite, z.boolean(), z.string(), z.array(finite)]));

export const TimingSchema = z.object({
  method: z.enum(['timestamp', 'timestamp-coarse', 'wall']),
  /** Timed samples taken. */
  samples: z.number().int().nonnegative(),
  /** Kernel runs between one pair of timestamps (or one host-clock reading). */
  dispatchesPerSample: z.number().int().positive(),
  /** Rounding step of the timestamps in ns (1 or so when fine; 0 when not measured with queries). */
  quantumNs: z.number().nonnegative(),
  warmup: z.number().int().nonnegative(),
  /** Hardware: the median of each round of samples, in ms; the record reports the fastest round's samples. */
  rounds: z.array(z.number().nonnegative()).optional(),
  /** Warm-up spent before timing, in ms (absent in older files). */
  warmupMs: z.number().nonnegative().optional(),
  /** Whether two consecutive warm-up windows agreed within 2% before timing; false: the GPU's speed was still changing (clocks). */
  settled: z.boolean().optional(),
});

export const CheckSchema = z.object({
  /** Output rows compared with the float64 reference: 'all', or how many were sampled. */
  rows: z.union([z.literal('all'), z.number().int().nonnegative()]),
  maxAbsError: nullableNumber,
  maxRelError: nullableNumber,
  mismatches: z.number().int().nonnegative(),
  atol: finite,
  rtol: finite,
  ok: z.boolean(),
});

export const ResultSchema = z
  .object({
    /** The attention family whose problem `shape` describes (version 1 files: dense). */
    family: z.string().min(1).default('dense'),
    kernel: z.string().min(1),
    /** ok: ran and matched the reference; failed: ran but did not match; skipped: cannot run here (see reason); error: the GPU failed. */
    status: z.enum(['ok', 'failed', 'skipped', 'error']),
    reason: z.string().optional(),
    precision: z.enum(['f32', 'f16']),
    shape: ShapeSchema,
    tiles: z.record(z.string(), z.number()),
    /** Milliseconds per kernel run (all of its dispatches). Null unless timed. */
    medianMs: nullableNumber,
    p20Ms: nullableNumber,
    p80Ms: nullableNumber,
    minMs: nullableNumber,
    /** Useful FLOPs (4·d per unmasked query–key pair) and the kernel's modelled global-memory bytes. */
    flops: z.number().nonnegative(),
    bytes: z.number().nonnegative(),
    /** The problem's minimal bytes: every input read once and every output written once, whatever the kernel. */
    minBytes: z.number().nonnegative().optional(),
    tflops: nullableNumber,
    gbps: nullableNumber,
    /** flops ÷ bytes: FLOPs per byte of the kernel's own traffic model (absent in older files; null when it moves none). */
    intensity: nullableNumber.optional(),
    /** tflops ÷ the roofline bound min(compute roof, intensity × copy bandwidth) of the context's ceilings; present only when both are known. */
    rooflineFraction: z.number().nonnegative().optional(),
    /**
     * Multi-pass kernels: each stage timed alone (its dispatches in their own timed pass, after the
     * whole kernel ran, so it reads the real intermediate data), median ms per run. Their sum can
     * differ a little from medianMs: stages timed together overlap at their boundaries.
     */
    stages: z.array(z.object({ name: z.string().min(1), medianMs: z.number().nonnegative() })).optional(),
    /** Bytes the kernel allocates beyond Q, K, V and O (S and P for naive). */
    scratchBytes: z.number().nonnegative(),
    compileMs: nullableNumber,
    pipelineCached: z.boolean(),
    timing: TimingSchema.nullable(),
    check: CheckSchema.nullable(),
    /** Which seed made the inputs (uniform in [-1, 1)). */
    seed: z.number().int(),
    /** A label for where the row came from, e.g. "autotune-search", "autotune-final", a suite name. */
    tag: z.string().optional(),
    /**
     * Reference timings of the same shape and precision measured in the same command (the runner's
     * --compare): `relative` is their time over ours, so above 1 means faster than the reference.
     */
    comparisons: z.array(z.object({ source: z.string(), backend: z.string(), dtype: z.string(), ms: z.number(), relative: z.number() })).optional(),
  })
  .superRefine((record, ctx) => {
    // A known family's shape must carry each of its fields with the field's kind (limits are the
    // family's business at run time: a file from another build may use other limits).
    const problem = FAMILIES.find((f) => f.problem.family === record.family)?.problem;
    if (!problem) return;
    for (const field of problem.fields) {
      const problemText = fieldKindProblem(field, record.shape[field.key]);
      if (problemText) ctx.addIssue({ code: 'custom', path: ['shape', field.key], message: problemText });
    }
  });

function fieldKindProblem(field: ShapeField, value: unknown): string | null {
  if (value === undefined) return `missing (${field.label})`;
  switch (field.kind) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? null : `expected a whole number, got ${JSON.stringify(value)}`;
    case 'bool':
      return typeof value === 'boolean' ? null : `expected true or false, got ${JSON.stringify(value)}`;
    case 'choice':
      return typeof value === 'string' ? null : `expected one of ${field.choices.join(', ')}, got ${JSON.stringify(value)}`;
    case 'int-list':
      return Array.isArray(value) ? null : `expected a list of whole numbers, got ${JSON.stringify(value)}`;
  }
}

export const AdapterSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  software: z.boolean(),
});

export const ContextSchema = z.object({
  /** ISO 8601 time the run started. */
  date: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  gitCommit: z.string().nullable(),
  runtime: z.enum(['node', 'browser']),
  userAgent: z.string().nullable(),
  adapter: AdapterSchema,
  features: z.array(z.string()),
  limits: z.record(z.string(), z.number()),
  /** timestamp-query when the device has it, else wall (the record's timing.method says what each row used). */
  timestampMethod: z.enum(['timestamp-query', 'wall']),
  /** Free-form notes (e.g. software fallback in use, Dawn options). */
  notes: z.array(z.string()),
  /** Bandwidth and compute ceilings measured on this device by the same command (absent when not measured). */
  ceilings: CeilingsSchema.optional(),
});

export const ResultsFileSchema = z.object({
  format: z.literal(RESULTS_FORMAT),
  version: z.union([z.literal(1), z.literal(2)]),
  context: ContextSchema,
  results: z.array(ResultSchema),
});

export type ResultShape = z.infer<typeof ShapeSchema>;
export type ResultRecord = z.output<typeof ResultSchema>;
export type ResultsContext = z.infer<typeof ContextSchema>;
export type ResultsFile = z.output<typeof ResultsFileSchema>;

/** Parses a results file (JSON text or an object); throws with every problem's path when it does not conform. */
export function parseResultsFile(input: string | unknown): ResultsFile {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch (error) {
      throw new Error(`not a results file: invalid JSON (${(error as Error).message})`);
    }
  }
  const parsed = ResultsFileSchema.safeParse(withAbsentFields(data));
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`not a valid results file:\n  ${issues.join('\n  ')}`);
  }
  // Version 1 shapes are dense shapes; the family default above already says so.
  return { ...parsed.data, version: RESULTS_VERSION, results: parsed.data.results.map(withAbsentTiles) };
}

export function makeResultsFile(context: ResultsContext, results: ResultRecord[]): ResultsFile {
  return { format: RESULTS_FORMAT, version: RESULTS_VERSION, context, results };
}

/**
 * A record made before one of its family's shape fields existed (marked `absent: 'default'`) lacks
 * it: it is filled with the field's default, read from the record's own shape where the default
 * follows another field (qkHeads = heads). Anything that is not a results file passes unchanged, for
 * the schema to name.
 */
function withAbsentFields(data: unknown): unknown {
  const results = (data as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return data;
  return {
    ...(data as object),
    results: results.map((record: unknown) => {
      const r = record as { family?: unknown; shape?: unknown } | null;
      if (!r || typeof r.shape !== 'object' || r.shape === null) return record;
      const problem = FAMILIES.find((f) => f.problem.family === (r.family ?? 'dense'))?.problem;
      const shape = r.shape as Record<string, unknown>;
      const missing = problem?.fields.filter((f) => f.absent === 'default' && shape[f.key] === undefined) ?? [];
      if (missing.length === 0) return record;
      const filled = { ...shape };
      for (const f of missing) {
        const d = f.default;
        filled[f.key] = typeof d === 'object' && d !== null && 'sameAs' in d ? shape[d.sameAs] : d;
      }
      return { ...r, shape: filled };
    }),
  };
}

/**
 * A record made before one of its kernel's tunables existed lacks that key: it is filled with the
 * tunable's `absent` value (what ran then), never with today's default. Records of kernels this
 * build does not know are kept as they are.
 */
function withAbsentTiles(record: ResultRecord): ResultRecord {
  const kernel = FAMILIES.flatMap((f) => f.kernels).find((k) => k.name === record.kernel);
  const missing = kernel?.tunables.filter((t) => t.absent !== undefined && !(t.key in record.tiles)) ?? [];
  if (missing.length === 0) return record;
  return { ...record, tiles: { ...record.tiles, ...Object.fromEntries(missing.map((t) => [t.key, t.absent!])) } };
}
