// `npm run bench -- [flags]`: the headless benchmark runner (Node + Dawn). See --help.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type AttentionDevice,
  type ResultRecord,
  ShapeFixture,
  autotune,
  benchmark,
  createDevice,
  getKernel,
  KERNELS,
  makeResultsFile,
  resultsContext,
  shapeLabel,
  tilesLabel,
  toCsv,
  TOOL,
} from '../src/index.js';
import { conformanceGroups, conformanceShapes, groupRunnable, runConformanceCase } from './conformance.js';
import { SUITES } from './suites.js';
import { type BenchCase, type SweepSpec, expandSweep, parseTileSpec } from './sweep.js';
import { type TorchFile, comparisonCell, comparisonsFor, parseTorchLines } from './compare.js';
import { formatTable, naiveSummary } from './table.js';

const HELP = `Usage: npm run bench -- [flags]

Runs attention kernels on a WebGPU device (a GPU through Dawn, or SwiftShader when there is
none), checks each output against the float64 CPU reference, times it, and prints a table.

Shapes (lists are comma-separated; every combination is run):
  --suite NAME        start from a named sweep (${Object.keys(SUITES).join(', ')}); other flags override it
  --kernels LIST      kernels to run: ${KERNELS.map((k) => k.name).join(', ')} (default: all)
  --seq LIST          sequence lengths; key length Nk, and query length too unless --seq-q (default 256,512)
  --seq-q LIST        query lengths Nq, when they differ from --seq (e.g. --seq-q 1 for decode)
  --dim LIST          head dims d (default 64)
  --heads LIST        query heads H (default 4)
  --kv-heads LIST     key/value heads; H must be divisible by each (default: = H, multi-head)
  --batch LIST        batch sizes B (default 1)
  --causal MODE       no, yes or both (default no)

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
  --info              print the adapter, its features, limits, subgroup sizes and subgroup-matrix
                      configurations, then exit
  --conformance       run the correctness matrix of the GPU tests (bench/conformance.ts) for the
                      kernels of --kernels on this device, print one line per configuration, exit

  -h, --help          this text

Exit status: 0 when every case that ran matched the reference, 1 when one failed or hit a
GPU error, 2 for bad flags.`;

const OPTIONS = {
  suite: { type: 'string' },
  kernels: { type: 'string' },
  seq: { type: 'string' },
  'seq-q': { type: 'string' },
  dim: { type: 'string' },
  heads: { type: 'string' },
  'kv-heads': { type: 'string' },
  batch: { type: 'string' },
  causal: { type: 'string' },
  tiles: { type: 'string', multiple: true },
  list: { type: 'boolean' },
  autotune: { type: 'boolean' },
  'autotune-max': { type: 'string' },
  'autotune-ms': { type: 'string' },
  exhaustive: { type: 'boolean' },
  warmup: { type: 'string' },
  'warmup-ms': { type: 'string' },
  samples: { type: 'string' },
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
  conformance: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function intList(flag: string, text: string | undefined, min = 1): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < min)) {
    throw new UsageError(`--${flag} "${text}": expected a comma-separated list of integers ≥ ${min}`);
  }
  return values;
}

function intFlag(flag: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} "${text}": expected an integer ≥ ${min}`);
  return value;
}

export interface CliPlan {
  cases: BenchCase[];
  warmup: number;
  warmupMs: number;
  samples: number;
  budgetMs: number;
  seed: number;
  check: boolean;
  timeoutMs: number;
  json: string | undefined;
  csv: string | undefined;
  compare: TorchFile | undefined;
  quiet: boolean;
  dawn: string[];
  softwareFallback: boolean;
  autotune: { maxConfigs: number; timeBudgetMs: number; exhaustive: boolean } | null;
}

export function planFromArgs(argv: string[]): CliPlan | 'help' | 'list' | { info: string[] } | { conformance: string[]; dawn: string[] } {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  if (values.list) return 'list';
  if (values.info) return { info: values.dawn ?? [] };
  if (values.conformance) {
    const kernels = values.kernels?.split(',').map((k) => k.trim()).filter(Boolean) ?? KERNELS.map((k) => k.name);
    for (const k of kernels) getKernel(k);
    return { conformance: kernels, dawn: values.dawn ?? [] };
  }
  const suiteName = values.suite ?? 'quick';
  const suite = SUITES[suiteName];
  if (!suite) throw new UsageError(`--suite "${suiteName}": unknown; known suites: ${Object.keys(SUITES).join(', ')}`);
  const kernels = values.kernels?.split(',').map((k) => k.trim()).filter(Boolean) ?? suite.spec.kernels;
  for (const k of kernels) getKernel(k);
  const causalMode = values.causal;
  let causal = suite.spec.causal;
  if (causalMode !== undefined) {
    const modes: Record<string, boolean[]> = { no: [false], yes: [true], both: [false, true] };
    if (!modes[causalMode]) throw new UsageError(`--causal "${causalMode}": expected no, yes or both`);
    causal = modes[causalMode]!;
  }
  const tiles = new Map<string, ReturnType<typeof parseTileSpec>['configs']>();
  for (const spec of values.tiles ?? []) {
    const parsed = parseTileSpec(spec);
    tiles.set(parsed.kernel, [...(tiles.get(parsed.kernel) ?? []), ...parsed.configs]);
  }
  const heads = intList('heads', values.heads) ?? suite.spec.heads;
  const spec: SweepSpec = {
    kernels,
    batch: intList('batch', values.batch) ?? suite.spec.batch,
    heads,
    kvHeads: intList('kv-heads', values['kv-heads']) ?? (values.heads ? undefined : suite.spec.kvHeads),
    seq: intList('seq', values.seq) ?? suite.spec.seq,
    seqQ: intList('seq-q', values['seq-q']) ?? (values.seq ? undefined : suite.spec.seqQ),
    dims: intList('dim', values.dim) ?? suite.spec.dims,
    causal,
    tiles,
  };
  for (const h of spec.heads)
    for (const kv of spec.kvHeads ?? [h])
      if (h % kv !== 0) throw new UsageError(`--heads ${h} is not divisible by --kv-heads ${kv}`);
  return {
    cases: expandSweep(spec),
    warmup: intFlag('warmup', values.warmup, 2),
    warmupMs: intFlag('warmup-ms', values['warmup-ms'], 150),
    samples: intFlag('samples', values.samples, 10, 1),
    budgetMs: intFlag('budget-ms', values['budget-ms'], 10_000, 1),
    seed: intFlag('seed', values.seed, 1),
    check: !values['no-check'],
    timeoutMs: intFlag('timeout-ms', values['timeout-ms'], 120_000, 1),
    json: values.json,
    csv: values.csv,
    compare: values.compare ? readCompare(values.compare) : undefined,
    quiet: Boolean(values.quiet),
    dawn: values.dawn ?? [],
    softwareFallback: !values['no-software'],
    autotune: values.autotune
      ? {
          maxConfigs: intFlag('autotune-max', values['autotune-max'], 80, 1),
          timeBudgetMs: intFlag('autotune-ms', values['autotune-ms'], 25_000, 1),
          exhaustive: Boolean(values.exhaustive),
        }
      : null,
  };
}

function readCompare(path: string): TorchFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--compare ${path}: ${(error as Error).message}`);
  }
  return parseTorchLines(text);
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
    const label = `${group.kernel.padEnd(10)} d=${String(group.headDim).padEnd(4)} ${tilesLabel(group.tiles) || '(defaults)'}`;
    const refused = groupRunnable(gpu, group.kernel, group.headDim, group.tiles);
    if (refused) {
      process.stdout.write(`${label}: not run here: ${refused}\n`);
      continue;
    }
    let ok = 0;
    let worst = 0;
    const shapes = conformanceShapes(group.headDim);
    const bad: string[] = [];
    for (const shape of shapes) {
      const r = await runConformanceCase(gpu, { kernel: group.kernel, shape, tiles: group.tiles });
      if (r.ok) ok++;
      else bad.push(`${shapeLabel(shape)} (${r.refused ?? `${r.mismatches} mismatches, max abs error ${r.maxAbsError}`})`);
      if (Number.isFinite(r.maxAbsError)) worst = Math.max(worst, r.maxAbsError);
    }
    failed += bad.length;
    process.stdout.write(`${label}: ${ok}/${shapes.length} shapes match, max abs error ${worst.toExponential(1)}${bad.length ? `; FAILED: ${bad.join('; ')}` : ''}\n`);
  }
  gpu.destroy();
  return failed > 0 ? 1 : 0;
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

function progress(quiet: boolean) {
  const tty = process.stderr.isTTY;
  const start = performance.now();
  return (index: number, total: number, c: BenchCase, stage: string) => {
    if (quiet) return;
    const elapsed = (performance.now() - start) / 1000;
    const eta = index > 0 ? ` eta ${Math.round((elapsed / index) * (total - index))}s` : '';
    const text = `[${String(index + 1).padStart(String(total).length)}/${total}] ${c.kernel} ${shapeLabel(c.shape)} ${tilesLabel(c.tiles ?? {})} ${stage} (${elapsed.toFixed(0)}s${eta})`;
    if (tty) process.stderr.write(`\r\x1b[K${text}`);
    else if (stage === 'compile') process.stderr.write(`${text}\n`);
  };
}

export async function runPlan(plan: CliPlan, gpu: AttentionDevice): Promise<ResultRecord[]> {
  const report = progress(plan.quiet);
  const results: ResultRecord[] = [];
  // Consecutive cases of one shape share inputs, buffers and the reference (kernels are innermost).
  let fixture: ShapeFixture | undefined;
  try {
    for (const [i, c] of plan.cases.entries()) {
      report(i, plan.cases.length, c, 'start');
      if (!fixture?.matches(c.shape, plan.seed)) {
        fixture?.destroy();
        fixture = await ShapeFixture.create(gpu, c.shape, plan.seed).catch(() => undefined);
      }
      const record = await benchmark(gpu, {
        kernel: c.kernel,
        shape: c.shape,
        tiles: c.tiles,
        warmup: plan.warmup,
        samples: plan.samples,
        budgetMs: plan.budgetMs,
        seed: plan.seed,
        check: plan.check,
        timeoutMs: plan.timeoutMs,
        fixture,
        onStage: (stage) => report(i, plan.cases.length, c, stage),
      });
      results.push(record);
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
  const shapes = new Map<string, BenchCase['shape']>();
  for (const c of plan.cases) shapes.set(shapeLabel(c.shape), c.shape);
  const kernels = [...new Set(plan.cases.map((c) => c.kernel))];
  const results: ResultRecord[] = [];
  const summary: string[] = [];
  for (const [label, shape] of shapes) {
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
    process.stderr.write(`bench: ${(error as Error).message}\nRun with --help for the flags.\n`);
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
  const date = new Date();
  let results: ResultRecord[];
  if (plan.autotune) {
    const tuned = await runAutotune(plan, gpu);
    results = tuned.results;
    process.stdout.write(`${formatTable(results.filter((r) => r.tag === 'autotune-final'))}\n\n${tuned.summary.join('\n')}\n`);
  } else {
    results = await runPlan(plan, gpu);
    if (plan.compare) {
      const torch = plan.compare;
      results = results.map((r) => {
        const comparisons = comparisonsFor(r, torch);
        return comparisons.length > 0 ? { ...r, comparisons } : r;
      });
    }
    const extra = plan.compare ? { header: 'vs PyTorch (their ms / ours)', cell: (r: ResultRecord) => comparisonCell(r.comparisons) } : undefined;
    process.stdout.write(`${formatTable(results, extra)}\n`);
    const summary = naiveSummary(results);
    if (summary.length > 0) process.stdout.write(`\nAgainst naive:\n  ${summary.join('\n  ')}\n`);
  }
  const notes = plan.dawn.length > 0 ? [`Dawn options: ${plan.dawn.join(' ')}`] : [];
  if (plan.compare) notes.push(`Compared with PyTorch ${plan.compare.torch ?? '?'} on ${plan.compare.device ?? '?'} (torch_sdpa.py, same command)`);
  const file = makeResultsFile(resultsContext(gpu, { gitCommit: gitCommit(), notes, date }), results);
  if (plan.json) {
    writeFileSync(plan.json, `${JSON.stringify(file, null, 2)}\n`);
    process.stderr.write(`wrote ${plan.json}\n`);
  }
  if (plan.csv) {
    writeFileSync(plan.csv, toCsv(results));
    process.stderr.write(`wrote ${plan.csv}\n`);
  }
  if (gpu.lostInfo) process.stderr.write(`bench: the device was lost: ${gpu.lostInfo.message}\n`);
  gpu.destroy();
  return results.some((r) => r.status === 'failed' || r.status === 'error') || gpu.lostInfo ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
