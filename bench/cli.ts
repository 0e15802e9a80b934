// `npm run bench -- [flags]`: the headless benchmark runner (Node + Dawn). See --help.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AttentionInputError,
  type AttentionDevice,
  FAMILIES,
  type ResultRecord,
  type ShapeField,
  type ShapeValue,
  ShapeFixture,
  autotune,
  benchmark,
  type Ceilings,
  measureCeilings,
  withRoofline,
  conformanceGroups,
  createDevice,
  getKernel,
  groupRefusal,
  KERNELS,
  makeResultsFile,
  parseResultsFile,
  type ResultsFile,
  parseFieldList,
  recordShapeLabel,
  resultsContext,
  runConformanceCase,
  tilesLabel,
  toCsv,
  TOOL,
} from '../src/index.js';
import { SUITES } from './suites.js';
import { type BenchCase, type SweepSpec, expandSweep, parseTileSpec } from './sweep.js';
import { type TorchFile, baselineComparisons, comparisonCell, comparisonsFor, parseTorchLines } from './compare.js';
import { formatTable, naiveSummary, stageSummary } from './table.js';

const HELP = `Usage: npm run bench -- [flags]

Runs attention kernels on a WebGPU device (a GPU through Dawn, or SwiftShader when there is
none), checks each output against the float64 CPU reference, times it, and prints a table.

Kernels and shapes (lists are comma-separated; every combination is run):
  --suite NAME        start from a named sweep (${Object.keys(SUITES).join(', ')}); other flags override it
  --kernels LIST      kernels to run (default: the suite's, or every kernel of --family):
${KERNELS.map((k) => `                        ${k.name.padEnd(16)} ${k.problem.family}: ${k.title}`).join('\n')}
  --family NAME       every kernel of one family: ${FAMILIES.map((f) => f.problem.family).join(', ')}
${fieldHelp()}

Tiles:
  --tiles SPEC        KERNEL:key=value[,key=value]; values separated by / are crossed, so
                      "flash:br=32/64,bc=16/32" is four configurations; "flash:all" is every one.
                      Repeat the flag for several kernels. Unset keys take the kernel's default.
  --list              print each kernel's tile parameters and allowed values, then exit

Autotuning:
  --autotune          search each kernel's tile space for every shape of the sweep (pruned by the
                      device's limits); prints the finalists and the best, and the JSON holds every
                      measurement (tag autotune-search) and the checked finalists (autotune-final)
  --autotune-max N    most configurations measured per kernel and shape (default 80)
  --autotune-ms MS    search time per kernel and shape (default 25000)
  --exhaustive        with --autotune: measure every runnable configuration (to validate the search)

Measurement:
  --warmup N          untimed runs before timing (default 2)
  --warmup-ms MS      at least this much GPU work before timing each case, so clocks are up (default 150)
  --samples N         timed samples (default 10)
  --rounds N          on a GPU, rounds of samples at most (default 3): a second always, a third when
                      the first two medians differ by over 10%; the fastest round is reported
  --budget-ms MS      cap on timed GPU work per case; fewer dispatches per sample beyond it (default 10000)
  --seed N            seed of the uniform [-1, 1) inputs (default 1)
  --no-check          skip the comparison with the CPU reference
  --timeout-ms MS     give up on any single GPU wait after this long (default 120000)

Output:
  --json FILE         write the results file (schema: README, "Results files")
  --compare FILE      PyTorch timings of the same shapes (the JSON lines of torch_sdpa.py, measured in
                      the same command): adds each row's speed relative to every PyTorch backend of
                      the same precision (their time over ours) to the table and the JSON
  --csv FILE          write the results as CSV
  --quiet             no progress lines on stderr

Device:
  --dawn OPTION       pass an option to Dawn (repeatable), e.g.
                      enable-dawn-features=vulkan_enable_f16_on_nvidia
  --no-software       fail instead of falling back to SwiftShader when no GPU adapter is found
  --ceilings          measure this device's ceilings (copy bandwidth, f32 FMA rate; f16 with
                      shader-f16; the matrix units with subgroup matrices), print them, then exit
  --with-ceilings     measure the ceilings before the run even on a software adapter (on a GPU they
                      are always measured: about a second); the results file records them, and the
                      table, CSV and JSON give each row's fraction of its roofline bound
  --info              print the adapter, its features, limits, subgroup sizes and subgroup-matrix
                      configurations, then exit
  --conformance       run the correctness matrix of the GPU tests (bench/conformance.ts) for the
                      kernels of --kernels on this device, print one line per configuration, exit

  -h, --help          this text

Exit status: 0 when every case that ran matched the reference, 1 when one failed or hit a
GPU error, 2 for bad flags.`;

/** Every shape field of every family, by flag; one flag means one field key everywhere. */
function fieldsByFlag(): Map<string, ShapeField[]> {
  const out = new Map<string, ShapeField[]>();
  for (const f of FAMILIES)
    for (const field of f.problem.fields) {
      const list = out.get(field.flag) ?? [];
      if (list.length > 0 && list[0]!.key !== field.key) {
        throw new Error(`--${field.flag} means ${list[0]!.key} in one family and ${field.key} in ${f.problem.family}`);
      }
      list.push(field);
      out.set(field.flag, list);
    }
  return out;
}

function fieldHelp(): string {
  const lines: string[] = [];
  for (const [flag, fields] of fieldsByFlag()) {
    const families = FAMILIES.filter((f) => f.problem.fields.some((x) => x.flag === flag)).map((f) => f.problem.family);
    const f = fields[0]!;
    const range =
      f.kind === 'int' || f.kind === 'int-list'
        ? ` ${f.min}..${f.max}`
        : f.kind === 'choice'
          ? ` ${f.choices.join(' | ')}`
          : f.kind === 'bool'
            ? ' no | yes | both'
            : '';
    const dflt =
      typeof f.default === 'object' && !Array.isArray(f.default)
        ? `= ${(f.default as { sameAs: string }).sameAs}`
        : Array.isArray(f.default)
          ? f.default.join(':')
          : String(f.default);
    lines.push(`  --${`${flag} LIST`.padEnd(18)}${f.help} (${range.trim()}; default ${dflt}; ${families.join(', ')})`);
  }
  return lines.join('\n');
}

const SHAPE_FLAGS = Object.fromEntries([...fieldsByFlag().keys()].map((flag) => [flag, { type: 'string' as const }]));

const OPTIONS = {
  suite: { type: 'string' },
  kernels: { type: 'string' },
  family: { type: 'string' },
  ...SHAPE_FLAGS,
  tiles: { type: 'string', multiple: true },
  list: { type: 'boolean' },
  autotune: { type: 'boolean' },
  'autotune-max': { type: 'string' },
  'autotune-ms': { type: 'string' },
  exhaustive: { type: 'boolean' },
  warmup: { type: 'string' },
  'warmup-ms': { type: 'string' },
  samples: { type: 'string' },
  rounds: { type: 'string' },
  'budget-ms': { type: 'string' },
  seed: { type: 'string' },
  'no-check': { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  json: { type: 'string' },
  csv: { type: 'string' },
  compare: { type: 'string' },
  quiet: { type: 'boolean' },
  dawn: { type: 'string', multiple: true },
  'no-software': { type: 'boolean' },
  info: { type: 'boolean' },
  ceilings: { type: 'boolean' },
  'with-ceilings': { type: 'boolean' },
  conformance: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A mistake in the flags: one line naming the flag and the limit, exit status 2. */
export class UsageError extends Error {}

/** A whole-number flag within [min, max]: every numeric flag has an upper bound, checked before any work. */
function intFlag(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`--${flag} "${text}": expected a whole number from ${min} to ${max}`);
  return value;
}

/** Limits of the measurement flags. Samples: timestamp queries come two per sample (the query set holds 4096). */
export const FLAG_LIMITS = {
  warmup: [0, 1000],
  'warmup-ms': [0, 600_000],
  samples: [1, 100_000],
  rounds: [1, 10],
  'budget-ms': [1, 3_600_000],
  seed: [0, 2 ** 31 - 1],
  'timeout-ms': [1, 3_600_000],
  'autotune-max': [1, 100_000],
  'autotune-ms': [1, 3_600_000],
} as const;

function kernelList(text: string): string[] {
  const names = text
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`--kernels "${text}": name at least one kernel (${KERNELS.map((k) => k.name).join(', ')})`);
  for (const k of names) getKernel(k);
  return names;
}

export interface CliPlan {
  cases: BenchCase[];
  warmup: number;
  warmupMs: number;
  samples: number;
  rounds: number;
  budgetMs: number;
  seed: number;
  check: boolean;
  timeoutMs: number;
  json: string | undefined;
  csv: string | undefined;
  compare: TorchFile | ResultsFile | undefined;
  quiet: boolean;
  dawn: string[];
  softwareFallback: boolean;
  autotune: { maxConfigs: number; timeBudgetMs: number; exhaustive: boolean } | null;
  /** Measure the device's ceilings before the run: 'gpu' on hardware adapters only, 'always' on software ones too. */
  ceilings: 'gpu' | 'always';
}

export function planFromArgs(
  argv: string[],
): CliPlan | 'help' | 'list' | { info: string[] } | { conformance: string[]; dawn: string[] } | { ceilings: { dawn: string[]; softwareFallback: boolean } } {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  if (values.list) return 'list';
  if (values.info) return { info: values.dawn ?? [] };
  if (values.ceilings) {
    if (values['with-ceilings']) throw new UsageError('--ceilings prints the ceilings and exits; --with-ceilings records them beside a run: use one');
    return { ceilings: { dawn: values.dawn ?? [], softwareFallback: !values['no-software'] } };
  }
  if (values.conformance) {
    const kernels = values.kernels !== undefined ? kernelList(values.kernels) : KERNELS.map((k) => k.name);
    return { conformance: kernels, dawn: values.dawn ?? [] };
  }
  const suiteName = values.suite ?? 'quick';
  const suite = SUITES[suiteName];
  if (!suite) throw new UsageError(`--suite "${suiteName}": unknown; known suites: ${Object.keys(SUITES).join(', ')}`);
  let kernels: string[];
  if (values.kernels !== undefined) kernels = kernelList(values.kernels);
  else if (values.family !== undefined) {
    const family = FAMILIES.find((f) => f.problem.family === values.family);
    if (!family) throw new UsageError(`--family "${values.family}": unknown; known families: ${FAMILIES.map((f) => f.problem.family).join(', ')}`);
    kernels = family.kernels.map((k) => k.name);
  } else kernels = suite.kernels;
  if (values.family !== undefined && values.kernels !== undefined) {
    const other = kernels.find((k) => getKernel(k).problem.family !== values.family);
    if (other) throw new UsageError(`--kernels ${other} computes ${getKernel(other).problem.family}, not --family ${values.family}`);
  }
  const families = new Set(kernels.map((k) => getKernel(k).problem));
  // Shape flags: each field's values, parsed as the page parses them; a flag no selected family has is refused.
  const given: Record<string, ShapeValue[]> = {};
  for (const [flag, fields] of fieldsByFlag()) {
    const text = (values as Record<string, unknown>)[flag];
    if (typeof text !== 'string') continue;
    const field = fields[0]!;
    if (![...families].some((p) => p.fields.some((f) => f.flag === flag))) {
      throw new UsageError(
        `--${flag}: no selected kernel has this field (${[...families].map((p) => p.family).join(', ')} ${families.size === 1 ? 'has' : 'have'} ${[...families].flatMap((p) => p.fields.map((f) => `--${f.flag}`)).join(', ')})`,
      );
    }
    const parsed = parseFieldList(field, text);
    if ('error' in parsed) throw new UsageError(`--${flag} "${text}": ${parsed.error}`);
    given[field.key] = parsed.values;
  }
  // A suite's values hold for fields not given; a field that follows another by default (kvHeads
  // follows heads, seqQ follows seqK) follows it when that one is given, not the suite.
  const sweepValues: Record<string, ShapeValue[]> = {};
  // A suite's shapes are its own families' (the dense suites'): other families start from their defaults.
  const suiteFamilies = new Set(suite.kernels.map((k) => getKernel(k).problem));
  const suiteApplies = [...families].every((p) => suiteFamilies.has(p));
  for (const [key, list] of Object.entries(suiteApplies ? suite.values : {})) {
    const field = [...families].flatMap((p) => p.fields).find((f) => f.key === key);
    const follows = field?.kind === 'int' && typeof field.default === 'object' ? field.default.sameAs : undefined;
    if (follows && given[follows]) continue;
    sweepValues[key] = list;
  }
  Object.assign(sweepValues, given);
  const tiles = new Map<string, ReturnType<typeof parseTileSpec>['configs']>();
  for (const spec of values.tiles ?? []) {
    const parsed = parseTileSpec(spec);
    if (!kernels.includes(parsed.kernel)) {
      throw new UsageError(`--tiles "${spec}": ${parsed.kernel} is not among the kernels run (${kernels.join(', ')}); add it to --kernels`);
    }
    tiles.set(parsed.kernel, [...(tiles.get(parsed.kernel) ?? []), ...parsed.configs]);
  }
  if (values.exhaustive && !values.autotune) throw new UsageError('--exhaustive only applies with --autotune');
  const spec: SweepSpec = { kernels, values: sweepValues, tiles };
  const cases = expandSweep(spec);
  // Every case's shape is checked now (limits, divisibility), so a bad combination is a usage error, not a skipped row.
  for (const c of cases) {
    try {
      getKernel(c.kernel).problem.resolve(c.shape);
    } catch (error) {
      if (error instanceof AttentionInputError) throw new UsageError(`${c.kernel}: ${error.message}`);
      throw error;
    }
  }
  const lim = (flag: keyof typeof FLAG_LIMITS, fallback: number) =>
    intFlag(flag, (values as Record<string, string | undefined>)[flag], fallback, FLAG_LIMITS[flag][0], FLAG_LIMITS[flag][1]);
  return {
    cases,
    warmup: lim('warmup', 2),
    warmupMs: lim('warmup-ms', 150),
    samples: lim('samples', 10),
    rounds: lim('rounds', 3),
    budgetMs: lim('budget-ms', 10_000),
    seed: lim('seed', 1),
    check: !values['no-check'],
    timeoutMs: lim('timeout-ms', 120_000),
    json: outputPath('json', values.json),
    csv: outputPath('csv', values.csv),
    compare: values.compare ? readCompare(values.compare) : undefined,
    quiet: Boolean(values.quiet),
    dawn: values.dawn ?? [],
    softwareFallback: !values['no-software'],
    autotune: values.autotune
      ? {
          maxConfigs: lim('autotune-max', 80),
          timeBudgetMs: lim('autotune-ms', 25_000),
          exhaustive: Boolean(values.exhaustive),
        }
      : null,
    ceilings: values['with-ceilings'] ? 'always' : 'gpu',
  };
}

/**
 * --compare FILE: reference timings as JSON lines (torch_sdpa.py and the other anchor scripts), or
 * a results file of ours (an earlier run as the baseline, as the page's Import does).
 */
function readCompare(file: string): TorchFile | ResultsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--compare ${file}: ${(error as Error).message}`);
  }
  if (/^\s*\{\s*"format"\s*:\s*"webgpu-attention-results"/.test(text)) {
    try {
      return parseResultsFile(text);
    } catch (error) {
      throw new UsageError(`--compare ${file}: ${(error as Error).message}`);
    }
  }
  try {
    return parseTorchLines(text);
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (${file}: neither JSON lines of timings nor a results file)`);
  }
}

/** Refuses an output path before any work: its folder must exist and be writable, and it must not be a folder. */
function outputPath(flag: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new Error('is a folder');
    accessSync(path.dirname(path.resolve(file)), constants.W_OK);
  } catch (error) {
    throw new UsageError(`--${flag} ${file}: cannot write there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return file;
}

/** Writes a file whole or not at all (a temporary file renamed over it), so an interrupted run never leaves half a file. */
function writeAtomic(file: string, text: string): void {
  const temp = `${file}.partial`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

function listKernels(): string {
  return KERNELS.map((k) => {
    const lines = k.tunables.map((t) => `    ${t.key.padEnd(12)} ${t.label}: ${t.values.join(', ')}\n${' '.repeat(17)}${t.help}`);
    return `${k.name}: ${k.title}\n  ${k.description}\n  tiles:\n${lines.join('\n')}`;
  }).join('\n\n');
}

function deviceInfo(gpu: AttentionDevice) {
  return {
    adapter: gpu.adapter,
    notes: gpu.notes,
    features: gpu.caps.features,
    wgslFeatures: gpu.caps.wgslFeatures,
    subgroupMinSize: gpu.caps.subgroupMinSize,
    subgroupMaxSize: gpu.caps.subgroupMaxSize,
    subgroupMatrixConfigs: gpu.caps.subgroupMatrixConfigs,
    limits: gpu.caps.limits,
  };
}

async function runConformance(kernels: string[], dawn: string[]): Promise<number> {
  const gpu = await createDevice({ dawnOptions: dawn });
  process.stderr.write(`conformance on ${gpu.adapter.vendor} ${gpu.adapter.description}\n`);
  let failed = 0;
  for (const group of conformanceGroups(kernels)) {
    const fixed = Object.entries(group.fixed)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    const label = `${group.kernel.padEnd(14)} ${fixed.padEnd(12)} ${tilesLabel(group.tiles) || '(defaults)'}`;
    const refused = groupRefusal(gpu, group);
    if (refused) {
      process.stdout.write(`${label}: not run here: ${refused}\n`);
      continue;
    }
    let ok = 0;
    let worst = 0;
    const { shapes } = group;
    const problem = getKernel(group.kernel).problem;
    const bad: string[] = [];
    for (const shape of shapes) {
      const r = await runConformanceCase(gpu, { kernel: group.kernel, shape, tiles: group.tiles });
      if (r.ok) ok++;
      else bad.push(`${problem.label(shape)} (${r.refused ?? `${r.mismatches} mismatches, max abs error ${r.maxAbsError}`})`);
      if (Number.isFinite(r.maxAbsError)) worst = Math.max(worst, r.maxAbsError);
    }
    failed += bad.length;
    process.stdout.write(
      `${label}: ${ok}/${shapes.length} shapes match, max abs error ${worst.toExponential(1)}${bad.length ? `; FAILED: ${bad.join('; ')}` : ''}\n`,
    );
  }
  gpu.destroy();
  return failed > 0 ? 1 : 0;
}

/** The ceilings as a few aligned lines, with what was probed. */
export function ceilingsText(gpu: Pick<AttentionDevice, 'adapter'>, c: Ceilings): string {
  const sizes = c.probes.copy.map((p) => `${(p.bytes / 2 ** 20).toFixed(0)} MiB ${p.gbps.toFixed(0)}`).join(', ');
  const lines = [
    `ceilings on ${gpu.adapter.description || gpu.adapter.vendor || 'this adapter'} (${c.probes.method}${gpu.adapter.software ? '; a software adapter: CPU numbers' : ''}):`,
    `  copy bandwidth  ${c.copyGBps.toFixed(1).padStart(9)} GB/s      read + written; best of ${sizes} GB/s${c.probes.copyUnallocated ? `; not allocatable: ${c.probes.copyUnallocated.map((b) => `${b / 2 ** 20} MiB`).join(', ')}` : ''}`,
    `  f32 FMA         ${c.f32Tflops.toFixed(3).padStart(9)} TFLOP/s   ${c.probes.compute.invocations} invocations × ${c.probes.compute.chains} chains × ${c.probes.compute.iterations} steps`,
    `  f16 FMA         ${c.f16Tflops === undefined ? '        –' : c.f16Tflops.toFixed(3).padStart(9)} TFLOP/s${c.f16Tflops === undefined ? '   no shader-f16' : ''}`,
    `  subgroup matrix ${c.mmaTflops === undefined ? '        –' : c.mmaTflops.toFixed(3).padStart(9)} TFLOP/s${c.probes.mma ? `   f16→f32 ${c.probes.mma.M}×${c.probes.mma.N}×${c.probes.mma.K}, subgroup ${c.probes.mma.subgroupSize}` : '   no f16→f32 subgroup matrices with a fixed subgroup size'}`,
  ];
  return lines.join('\n');
}

/** Set by bench/build.mjs in the bundle: the commit it was built from (absent under tsx or vitest). */
declare const __BUILD_COMMIT__: string | undefined;

function gitCommit(): string | null {
  // A copy without .git (a GPU machine's working tree) can say which commit it is.
  if (process.env.GIT_COMMIT) return process.env.GIT_COMMIT;
  if (typeof __BUILD_COMMIT__ === 'string' && __BUILD_COMMIT__) return __BUILD_COMMIT__;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/** A case's shape as its family labels it. */
function caseLabel(c: BenchCase): string {
  const problem = getKernel(c.kernel).problem;
  return problem.label(problem.resolve(c.shape));
}

function progress(quiet: boolean) {
  const tty = process.stderr.isTTY;
  const start = performance.now();
  return (index: number, total: number, c: BenchCase, stage: string) => {
    if (quiet) return;
    const elapsed = (performance.now() - start) / 1000;
    const eta = index > 0 ? ` eta ${Math.round((elapsed / index) * (total - index))}s` : '';
    const text = `[${String(index + 1).padStart(String(total).length)}/${total}] ${c.kernel} ${caseLabel(c)} ${tilesLabel(c.tiles ?? {})} ${stage} (${elapsed.toFixed(0)}s${eta})`;
    if (tty) process.stderr.write(`\r\x1b[K${text}`);
    else if (stage === 'compile') process.stderr.write(`${text}\n`);
  };
}

export async function runPlan(plan: CliPlan, gpu: AttentionDevice, onRecord?: (results: readonly ResultRecord[]) => void): Promise<ResultRecord[]> {
  const report = progress(plan.quiet);
  const results: ResultRecord[] = [];
  // Consecutive cases of one shape share inputs, buffers and the reference (kernels are innermost).
  let fixture: ShapeFixture | undefined;
  try {
    for (const [i, c] of plan.cases.entries()) {
      report(i, plan.cases.length, c, 'start');
      const problem = getKernel(c.kernel).problem;
      if (!fixture?.matches(problem, c.shape, plan.seed)) {
        fixture?.destroy();
        fixture = await ShapeFixture.create(gpu, problem, c.shape, plan.seed).catch(() => undefined);
      }
      const record = await benchmark(gpu, {
        kernel: c.kernel,
        shape: c.shape,
        tiles: c.tiles,
        warmup: plan.warmup,
        samples: plan.samples,
        rounds: plan.rounds,
        budgetMs: plan.budgetMs,
        seed: plan.seed,
        check: plan.check,
        timeoutMs: plan.timeoutMs,
        fixture,
        onStage: (stage) => report(i, plan.cases.length, c, stage),
      });
      results.push(record);
      onRecord?.(results);
      if (gpu.lostInfo) break;
    }
  } finally {
    fixture?.destroy();
  }
  if (!plan.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  return results;
}

/** --autotune: one search per distinct shape of the sweep, over the kernels asked for. */
export async function runAutotune(plan: CliPlan, gpu: AttentionDevice): Promise<{ results: ResultRecord[]; summary: string[] }> {
  const settings = plan.autotune!;
  // One search per distinct (family, shape), over that family's kernels.
  const searches = new Map<string, { kernels: string[]; shape: BenchCase['shape'] }>();
  for (const c of plan.cases) {
    const problem = getKernel(c.kernel).problem;
    const label = `${problem.family} ${problem.label(problem.resolve(c.shape))}`;
    const entry = searches.get(label) ?? { kernels: [], shape: c.shape };
    if (!entry.kernels.includes(c.kernel)) entry.kernels.push(c.kernel);
    searches.set(label, entry);
  }
  const results: ResultRecord[] = [];
  const summary: string[] = [];
  for (const [label, { kernels, shape }] of searches) {
    const tunings = await autotune(gpu, shape, {
      kernels,
      seed: plan.seed,
      maxConfigs: settings.maxConfigs,
      timeBudgetMs: settings.timeBudgetMs,
      exhaustive: settings.exhaustive,
      finalSamples: plan.samples,
      warmupMs: plan.warmupMs,
      onProgress: ({ kernel, measured, runnable, record }) => {
        if (plan.quiet) return;
        const text = `autotune ${kernel} ${label}: ${measured} measured of ${runnable} runnable; ${tilesLabel(record.tiles)} ${record.medianMs?.toFixed(3) ?? record.status} ms`;
        process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${text}` : `${text}\n`);
      },
    });
    for (const t of tunings) {
      results.push(...t.table, ...t.finalists);
      summary.push(
        t.bestRecord
          ? `best ${t.kernel} ${label}: ${tilesLabel(t.best!)}  ${t.bestRecord.medianMs!.toFixed(4)} ms, ${t.bestRecord.tflops!.toPrecision(3)} TFLOP/s (${t.measured} of ${t.runnable} runnable measured in ${(t.elapsedMs / 1000).toFixed(1)} s)`
          : `best ${t.kernel} ${label}: none passed (${t.measured} of ${t.runnable} measured)`,
      );
    }
  }
  if (!plan.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  return { results, summary };
}

async function main(argv: string[]): Promise<number> {
  let plan;
  try {
    plan = planFromArgs(argv);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message.replaceAll('\n', ' ')} (see --help)\n`);
    return 2;
  }
  if (plan === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (plan === 'list') {
    process.stdout.write(`${listKernels()}\n`);
    return 0;
  }
  if ('conformance' in plan) return runConformance(plan.conformance, plan.dawn);
  if ('ceilings' in plan && !('cases' in plan)) {
    const gpu = await createDevice({ dawnOptions: plan.ceilings.dawn, softwareFallback: plan.ceilings.softwareFallback });
    const ceilings = await measureCeilings(gpu);
    process.stdout.write(`${ceilingsText(gpu, ceilings)}\n`);
    gpu.destroy();
    return 0;
  }
  if ('info' in plan) {
    const gpu = await createDevice({ dawnOptions: plan.info });
    process.stdout.write(`${JSON.stringify(deviceInfo(gpu), null, 2)}\n`);
    gpu.destroy();
    return 0;
  }
  const gpu = await createDevice({ dawnOptions: plan.dawn, softwareFallback: plan.softwareFallback });
  const a = gpu.adapter;
  process.stderr.write(
    `${TOOL.name} ${TOOL.version} on ${a.vendor || '?'} ${a.architecture} ${a.description}${a.software ? ' (software adapter: timings say nothing about GPUs)' : ''}\n`,
  );
  for (const note of gpu.notes) process.stderr.write(`note: ${note}\n`);
  // Ceilings first, on an idle device, so that each row can say how close it came to its roofline.
  // A probe that fails costs the roofline columns, never the run.
  let ceilings: Ceilings | undefined;
  if (plan.ceilings === 'always' || !gpu.adapter.software) {
    try {
      ceilings = await measureCeilings(gpu);
      if (!plan.quiet) process.stderr.write(`${ceilingsText(gpu, ceilings)}\n`);
    } catch (error) {
      process.stderr.write(`note: the ceilings could not be measured (${(error as Error).message.split('\n')[0]}); no roofline fractions\n`);
    }
  }
  const date = new Date();
  // The command itself, so that every figure in a results file says how to reproduce it.
  const notes = [`command: npm run bench -- ${argv.join(' ')}`];
  const compare = plan.compare;
  if (compare && 'format' in compare)
    notes.push(
      `Compared with the results file of ${compare.context.date} (commit ${compare.context.gitCommit ?? '?'}, ${compare.context.adapter.description})`,
    );
  else if (compare) notes.push(`Compared with ${compare.torch ? `PyTorch ${compare.torch}` : 'reference timings'} on ${compare.device ?? '?'} (same command)`);
  const withComparisons = (list: readonly ResultRecord[]) =>
    withRoofline(
      compare
        ? list.map((r) => {
            const comparisons = 'format' in compare ? baselineComparisons(r, compare.results) : comparisonsFor(r, compare);
            return comparisons.length > 0 ? { ...r, comparisons } : r;
          })
        : [...list],
      ceilings,
    );
  // Results are written as each case finishes (whole files, renamed into place), so a long sweep
  // interrupted by Ctrl-C or a lost device keeps every case that finished.
  const save = (list: readonly ResultRecord[]) => {
    const rows = withComparisons(list);
    if (plan.json)
      writeAtomic(
        plan.json,
        `${JSON.stringify(makeResultsFile(resultsContext(gpu, { gitCommit: gitCommit(), notes, date, ...(ceilings ? { ceilings } : {}) }), rows), null, 2)}\n`,
      );
    if (plan.csv) writeAtomic(plan.csv, toCsv(rows));
  };
  let finished: readonly ResultRecord[] = [];
  const onInterrupt = () => {
    process.stderr.write(
      `\nbench: interrupted after ${finished.length} of ${plan.cases.length} cases${plan.json || plan.csv ? `; ${[plan.json, plan.csv].filter(Boolean).join(' and ')} hold them` : ''}\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  let results: ResultRecord[];
  if (plan.autotune) {
    const tuned = await runAutotune(plan, gpu);
    results = withRoofline(tuned.results, ceilings);
    process.stdout.write(`${formatTable(results.filter((r) => r.tag === 'autotune-final'))}\n\n${tuned.summary.join('\n')}\n`);
  } else {
    results = withComparisons(
      await runPlan(plan, gpu, (list) => {
        finished = list;
        save(list);
      }),
    );
    const header =
      compare && 'format' in compare ? 'vs baseline (its ms / ours)' : compare?.torch ? 'vs PyTorch (their ms / ours)' : 'vs reference (their ms / ours)';
    const extra = compare ? { header, cell: (r: ResultRecord) => comparisonCell(r.comparisons) } : undefined;
    process.stdout.write(`${formatTable(results, extra)}\n`);
    const summary = naiveSummary(results);
    if (summary.length > 0) process.stdout.write(`\nAgainst naive:\n  ${summary.join('\n  ')}\n`);
    const stages = stageSummary(results);
    if (stages.length > 0) process.stdout.write(`\nStages, each timed alone:\n  ${stages.join('\n  ')}\n`);
  }
  process.off('SIGINT', onInterrupt);
  save(results);
  if (plan.json) process.stderr.write(`wrote ${plan.json}\n`);
  if (plan.csv) process.stderr.write(`wrote ${plan.csv}\n`);
  if (gpu.lostInfo) process.stderr.write(`bench: the device was lost: ${gpu.lostInfo.message}\n`);
  gpu.destroy();
  const ran = results.filter((r) => r.status !== 'skipped');
  if (ran.length === 0) {
    const first = results[0];
    process.stderr.write(
      `bench: nothing ran: ${results.length === 0 ? 'no cases' : `all ${results.length} cases were skipped (${first!.kernel} ${recordShapeLabel(first!)}: ${first!.reason ?? 'no reason given'})`}\n`,
    );
    return 1;
  }
  return results.some((r) => r.status === 'failed' || r.status === 'error') || gpu.lostInfo ? 1 : 0;
}

// Run only as the program itself (node .build/bench.mjs, or this file under a TypeScript runner),
// not when a test or another script imports planFromArgs.
const entry = process.argv[1] ? pathToFileURL(path.resolve(process.argv[1])).href : '';
if (import.meta.url === entry && /\/(bench\.mjs|cli\.ts)$/.test(entry))
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`bench: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
