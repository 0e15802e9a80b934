import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { KernelTuning } from '../../harness/autotune.js';
import { type AttentionDevice, createDevice } from '../../gpu/device.js';
import type { Tiles } from '../../attention/types.js';
import { resultsContext } from '../../results/context.js';
import { measureCeilings } from '../../harness/ceilings.js';
import type { Ceilings } from '../../results/roofline.js';
import { getKernel } from '../../attention/registry.js';
import { toCsv } from '../../results/csv.js';
import { type ResultRecord, type ResultsContext, type ResultsFile, makeResultsFile, parseResultsFile } from '../../results/schema.js';
import { recordShapeLabel } from '../../results/label.js';
import { FixtureCache } from '../engine/fixtures.js';
import { WorkQueue } from '../engine/queue.js';
import { type Case, type Progress, type RunContext, runCases, tuneKernels } from '../engine/runner.js';
import { WorkerReference } from '../reference/client.js';
import { type PageConfig, inConfiguredFamily, pinTiles, problemOf, referenceShape, shapeAt, shapeProblem, unpinTiles } from '../state/config.js';
import { type RunEstimate, estimateRun } from '../state/estimate.js';
import { applySoftwarePreset, givenParams } from '../state/preset.js';
import { PAGE_TAG, keepPrevious, mergeRecord } from '../state/results.js';
import { type KeyValueStore, loadConfigSearch, loadStored, loadView, saveBaseline, saveConfigSearch, saveResults, saveView } from '../state/storage.js';
import { decodeSearch, encodeConfig, encodeSearch } from '../state/url.js';
import type { CompareView, PlotView, RooflineSource, StoredView } from '../state/view.js';
import { downloadText, timestampedName } from './download.js';

/** Where the roofline's points and roofs come from (view.ts; kept in local storage). */
export type { RooflineSource };

/** Tile edits closer together than this make one re-run, not one per keystroke or arrow press. */
export const LIVE_DEBOUNCE_MS = 400;
const LOG_LIMIT = 200;

export type DeviceStatus = 'connecting' | 'ready' | 'unavailable' | 'lost';

export interface DeviceState {
  status: DeviceStatus;
  gpu: AttentionDevice | null;
  /** Why there is no device: WebGPU missing, no adapter, or the loss reason. */
  message: string | null;
}

export interface LogEntry {
  time: Date;
  level: 'error' | 'warning' | 'info';
  text: string;
}

export interface JobState {
  key: string;
  label: string;
  progress: Progress;
  startedAt: number;
}

export interface TuningSummary {
  /** The shape's label, as its family writes it. */
  shape: string;
  tuning: KernelTuning;
}

/** A passing status line (exports, imports, copies), or a problem the user should read. */
export interface Notice {
  level: 'info' | 'error';
  text: string;
  /** A way back, e.g. undoing Clear results. */
  action?: { label: string; run: () => void };
}

export interface ControllerEnv {
  storage: KeyValueStore;
  /** Reads and writes the configuration in the address bar. */
  getSearch(): string;
  setSearch(search: string): void;
}

/**
 * The page's state and every action on it, apart from rendering: device life cycle, the one job
 * queue that Run, live tile edits and Autotune share, results and baseline with their persistence,
 * and the configuration mirrored in the URL. Components read its fields and call its methods.
 */
export class PlaygroundController implements ReactiveController {
  config: PageConfig;
  /** URL parameters that were ignored when the page loaded, and why. */
  urlNotes: string[];
  /** The results plots' x axis and metric: in the URL with the configuration. */
  plotView: PlotView;
  /** The cross-family comparison's and the roofline's choices: in local storage with the rows they name. */
  storedView: StoredView;
  device: DeviceState = { status: 'connecting', gpu: null, message: null };
  results: ResultRecord[] = [];
  /** Rows a tile edit replaced (tag "previous"), kept until Clear previous; never exported. */
  previous: ResultRecord[] = [];
  /** Stop was pressed and the running job has not ended yet (a timing stage finishes first). */
  stopping = false;
  baseline: ResultsFile | null = null;
  baselineName: string | null = null;
  job: JobState | null = null;
  /** Jobs waiting behind the running one. */
  waiting = 0;
  tunings: TuningSummary[] = [];
  log: LogEntry[] = [];
  notice: Notice | null = null;
  /** Jobs finished (done, cancelled or failed) since load: lets tests and tools wait for one. */
  completedJobs = 0;
  /** Timestamp rounding measured by the latest timed run on the current device, in ns; null before one. */
  quantumNs: number | null = null;
  /** Ceilings measured on the current device (Measure ceilings); null before. */
  ceilings: Ceilings | null = null;

  private readonly queue = new WorkQueue(() => {
    this.waiting = this.queue.waiting.length;
    if (!this.queue.busy) this.stopping = false;
    this.changed();
  });
  private readonly fixtures = new FixtureCache();
  private readonly reference = new WorkerReference();
  private readonly liveTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Context of the device that made the kept results, for exports while no device is open. */
  private storedContext: ResultsContext | null = null;
  /** Query parameters the link or kept configuration set; null once the software preset was considered. */
  private presetPending: Set<string> | null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly env: ControllerEnv,
  ) {
    host.addController(this);
    // A bare URL (no query) restores the configuration kept with the results, so a reload never
    // shows kept rows under another shape; a link with a query wins.
    const search = env.getSearch();
    const kept = search.replace(/^\?/, '') === '' ? loadConfigSearch(env.storage) : null;
    const decoded = decodeSearch(kept ?? search);
    this.config = decoded.config;
    this.plotView = decoded.view;
    this.storedView = loadView(env.storage);
    this.urlNotes = kept ? decoded.notes.map((n) => `kept configuration: ${n}`) : decoded.notes;
    this.presetPending = givenParams(kept ?? search);
    const stored = loadStored(env.storage);
    if (stored.results) {
      this.results = stored.results.results;
      this.storedContext = stored.results.context;
    }
    this.baseline = stored.baseline;
    this.baselineName = stored.baselineName;
    for (const p of stored.problems) this.addLog('warning', p);
  }

  hostConnected(): void {
    this.writeSearch();
    void this.connect();
  }

  hostDisconnected(): void {
    this.queue.cancel();
    for (const t of this.liveTimers.values()) clearTimeout(t);
    this.fixtures.clear();
    this.reference.dispose();
    this.device.gpu?.destroy();
  }

  get busy(): boolean {
    return this.queue.busy;
  }

  get caps() {
    return this.device.gpu?.caps ?? null;
  }

  // ---- Device ----

  /** Opens a device; with one open already (or lost), replaces it. Results are kept either way. */
  async connect(): Promise<void> {
    this.queue.cancel();
    this.fixtures.clear();
    const old = this.device.gpu;
    this.device = { status: 'connecting', gpu: null, message: null };
    this.changed();
    old?.destroy();
    try {
      const gpu = await createDevice({
        onUncapturedError: (message) => {
          this.addLog('error', `Uncaptured WebGPU error: ${message}`);
          this.changed();
        },
      });
      this.device = { status: 'ready', gpu, message: null };
      this.quantumNs = null;
      this.ceilings = null;
      this.considerSoftwarePreset(gpu);
      for (const note of gpu.notes) this.addLog('info', note);
      void gpu.lost.then((info) => this.onLost(gpu, info));
    } catch (error) {
      this.device = { status: 'unavailable', gpu: null, message: (error as Error).message };
    }
    this.changed();
  }

  /** Once, on the first device: a software adapter starts from a small shape unless the link or kept configuration said otherwise. */
  private considerSoftwarePreset(gpu: AttentionDevice): void {
    const given = this.presetPending;
    this.presetPending = null;
    if (!given || !gpu.adapter.software) return;
    const preset = applySoftwarePreset(this.config, given);
    if (encodeConfig(preset) === encodeConfig(this.config)) return;
    this.setConfig(preset);
    this.addLog(
      'info',
      'Software adapter: started from a small shape (N 64–256, 2 heads, d 32) so that Run takes seconds, not minutes. Any field can be raised.',
    );
  }

  private onLost(gpu: AttentionDevice, info: GPUDeviceLostInfo): void {
    // A device we replaced ourselves is not news.
    if (this.device.gpu !== gpu) return;
    const message = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
    this.device = { status: 'lost', gpu: null, message };
    this.queue.cancel();
    this.fixtures.clear();
    this.addLog('error', `The GPU device was lost (${message}).`);
    this.changed();
  }

  // ---- Configuration ----

  setConfig(config: PageConfig): void {
    this.config = config;
    this.writeSearch();
    this.changed();
  }

  /** The configuration and the plots' view into the address bar, and kept for a reload on a bare URL. */
  private writeSearch(): void {
    const search = encodeSearch(this.config, this.plotView);
    this.env.setSearch(search);
    saveConfigSearch(this.env.storage, search);
  }

  // ---- View choices ----

  setPlotView(view: PlotView): void {
    this.plotView = view;
    this.writeSearch();
    this.changed();
  }

  setCompareView(compare: CompareView): void {
    this.storedView = { ...this.storedView, compare };
    saveView(this.env.storage, this.storedView);
    this.changed();
  }

  setRooflineChoice(roofline: RooflineSource): void {
    this.storedView = { ...this.storedView, roofline };
    saveView(this.env.storage, this.storedView);
    this.changed();
  }

  /** Pins a kernel's tiles (null: back to the device default) and re-runs its rows after a pause. */
  setTiles(kernel: string, tiles: Tiles | null): void {
    this.setConfig(tiles ? pinTiles(this.config, kernel, tiles) : unpinTiles(this.config, kernel));
    this.scheduleLive(kernel);
  }

  private scheduleLive(kernel: string): void {
    clearTimeout(this.liveTimers.get(kernel));
    this.liveTimers.set(
      kernel,
      setTimeout(() => {
        this.liveTimers.delete(kernel);
        this.runLive(kernel);
      }, LIVE_DEBOUNCE_MS),
    );
  }

  /**
   * The cases a tile edit affects: this kernel at every configured length, when the table shows
   * rows of it for the configured shape. Before a first Run there is nothing to update, and an
   * edit should not start GPU work the user did not ask for.
   */
  private liveCases(kernel: string): Case[] {
    const shape = referenceShape(this.config);
    if (!shape || !this.config.kernels.includes(kernel)) return [];
    const shown = this.results.some((r) => r.kernel === kernel && r.tag === PAGE_TAG && inConfiguredFamily(r, this.config));
    if (!shown) return [];
    return this.config.seqs.map((seq) => ({ kernel, shape: shapeAt(this.config, seq), tiles: this.config.tiles[kernel] }));
  }

  private runLive(kernel: string): void {
    const cases = this.liveCases(kernel);
    if (cases.length === 0) return;
    void this.enqueue(
      `live:${kernel}`,
      `Re-running ${kernel} with its new tiles`,
      (ctx) => runCases(ctx, cases, this.config.samples, (r) => this.addRecord(r, true)),
      true,
    );
  }

  // ---- Jobs ----

  /** Why Run and Autotune cannot start now, or null. */
  get blocked(): string | null {
    if (this.device.status !== 'ready') return 'No GPU device';
    const problem = shapeProblem(this.config);
    if (problem) return problem;
    if (this.config.kernels.length === 0) return 'Choose at least one kernel';
    return null;
  }

  /** How long Run would take now, from the FLOP model and the rate measured here (or assumed). */
  get estimate(): RunEstimate | null {
    if (this.device.status !== 'ready' || shapeProblem(this.config)) return null;
    return estimateRun(this.config, this.device.gpu?.adapter.software ?? false, this.results);
  }

  run(): void {
    if (this.blocked) return;
    // The run covers every kernel: pending live re-runs would only repeat it.
    for (const [kernel, t] of this.liveTimers) {
      clearTimeout(t);
      this.liveTimers.delete(kernel);
    }
    const config = this.config;
    const cases: Case[] = config.seqs.flatMap((seq) => config.kernels.map((kernel) => ({ kernel, shape: shapeAt(config, seq), tiles: config.tiles[kernel] })));
    void this.enqueue('run', `Run: ${cases.length} cases`, (ctx) => runCases(ctx, cases, config.samples, (r) => this.addRecord(r)));
  }

  /**
   * Tunes every selected kernel on the longest configured length (where tile choice matters most
   * and limits bite first), adds the checked finalists to the results and pins each kernel's winner.
   */
  autotune(): void {
    if (this.blocked) return;
    const config = this.config;
    const shape = shapeAt(config, Math.max(...config.seqs));
    const label = problemOf(config).label(shape);
    void this.enqueue('autotune', `Autotune on ${label}`, (ctx) =>
      tuneKernels(ctx, shape, config.kernels, { maxConfigs: config.tuneMaxConfigs, finalSamples: config.samples }, (tuning) => {
        this.tunings = [...this.tunings.filter((t) => t.tuning.kernel !== tuning.kernel), { shape: label, tuning }];
        for (const record of tuning.finalists) this.addRecord(record);
        if (tuning.best) {
          this.setConfig(pinTiles(this.config, tuning.kernel, tuning.best));
          this.scheduleLive(tuning.kernel);
        } else {
          this.addLog('warning', `Autotune found no configuration of ${tuning.kernel} that passes the reference check on ${label}.`);
        }
        this.changed();
      }),
    );
  }

  stop(): void {
    for (const t of this.liveTimers.values()) clearTimeout(t);
    this.liveTimers.clear();
    // The running stage (a timing loop, a compile) ends before the job does: say so at once.
    if (this.queue.busy) this.stopping = true;
    this.queue.cancel();
    this.changed();
  }

  private async enqueue(key: string, label: string, body: (ctx: RunContext) => Promise<void>, supersede = false): Promise<void> {
    const gpu = this.device.gpu;
    if (!gpu) return;
    try {
      const outcome = await this.queue.run(
        key,
        label,
        async (signal) => {
          // A job queued behind a stopped one (Run pressed while stopping) is not itself stopping.
          this.stopping = false;
          this.job = { key, label, progress: { done: 0, total: 0, detail: 'starting' }, startedAt: performance.now() };
          this.changed();
          try {
            await body({
              gpu,
              fixtures: this.fixtures,
              reference: this.reference.reference,
              signal,
              onProgress: (progress) => {
                if (this.job?.key === key) this.job = { ...this.job, progress };
                this.changed();
              },
            });
          } finally {
            this.job = null;
          }
        },
        { supersede },
      );
      // A live re-run replaced by a newer edit is routine, not news.
      if (outcome.status === 'cancelled' && !key.startsWith('live:')) this.notice = { level: 'info', text: `${label}: stopped.` };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      this.addLog('error', `${label} failed: ${message}`);
      this.notice = { level: 'error', text: `${label} failed: ${message}` };
    }
    this.completedJobs++;
    this.changed();
  }

  private addRecord(record: ResultRecord, live = false): void {
    if (live) this.previous = keepPrevious(this.previous, this.results, record);
    this.results = mergeRecord(this.results, record);
    const timing = record.timing;
    if (timing && timing.method !== 'wall' && timing.quantumNs > 0) this.quantumNs = timing.quantumNs;
    if (record.status === 'error') {
      // Shader compiler output and GPU errors arrive here; the row shows them too, the log keeps them.
      this.addLog('error', `${record.kernel} ${recordShapeLabel(record)}: ${record.reason ?? 'error'}`);
    }
    this.persistResults();
    this.changed();
  }

  // ---- Insight: ceilings and shaders ----

  /** Measures the device's ceilings, in the job queue so the probes never overlap a timed run. */
  measureCeilings(): void {
    if (this.device.status !== 'ready') return;
    void this.enqueue('ceilings', 'Measuring ceilings', async (ctx) => {
      ctx.onProgress({ done: 0, total: 1, detail: 'copy bandwidth and FMA rates' });
      this.ceilings = await measureCeilings(ctx.gpu);
      ctx.onProgress({ done: 1, total: 1, detail: 'done' });
    });
  }

  /**
   * What the roofline draws, from one device only: this page's results under this device's
   * ceilings, or an imported file's results under the file's own (an H200 file drawn on a laptop).
   * Points of one GPU under another's roofs would place them against the wrong walls.
   */
  roofline(source: RooflineSource): { source: RooflineSource; results: readonly ResultRecord[]; ceilings: Ceilings | null; ceilingsSource: string | null } {
    if (source === 'file' && this.baseline) {
      const ceilings = this.baseline.context.ceilings ?? null;
      const from = `in ${this.baselineName ?? 'the baseline'} (${this.baseline.context.adapter.description || 'its adapter'})`;
      return { source, results: this.baseline.results, ceilings, ceilingsSource: ceilings ? from : null };
    }
    return { source: 'page', results: this.results, ceilings: this.ceilings, ceilingsSource: this.ceilings ? 'on this device' : null };
  }

  /** The roofline's source unless the user chose one: an imported file that has ceilings, until this device measures its own. */
  get defaultRooflineSource(): RooflineSource {
    return this.baseline?.context.ceilings && !this.ceilings ? 'file' : 'page';
  }

  /** The specialized WGSL of each pipeline a result ran (pipelines are cached: preparing again is cheap). */
  async shadersOf(record: ResultRecord): Promise<readonly { label: string; code: string }[]> {
    const gpu = this.device.gpu;
    if (!gpu) throw new Error('no GPU device: the shaders are specialized for one');
    const kernel = getKernel(record.kernel);
    const shape = kernel.problem.resolve(record.shape);
    const prepared = await kernel.prepare(gpu.device, shape, { ...kernel.defaultTiles(shape, gpu.caps), ...record.tiles }, gpu.caps);
    return prepared.shaders;
  }

  // ---- Results, baseline, export ----

  private currentContext(): ResultsContext | null {
    const gpu = this.device.gpu;
    return gpu ? resultsContext(gpu, { notes: ['benchmark page'], ...(this.ceilings ? { ceilings: this.ceilings } : {}) }) : this.storedContext;
  }

  private persistResults(): void {
    const context = this.currentContext();
    if (context) this.storedContext = context;
    const problem = saveResults(this.env.storage, this.storedContext, this.results);
    if (problem) this.notice = { level: 'error', text: problem };
  }

  resultsFile(): ResultsFile | null {
    const context = this.currentContext();
    return context && this.results.length > 0 ? makeResultsFile(context, this.results) : null;
  }

  exportJson(): void {
    const file = this.resultsFile();
    if (!file) return;
    downloadText(timestampedName('attention-results', 'json'), `${JSON.stringify(file, null, 2)}\n`, 'application/json');
    this.setNotice('info', `Exported ${file.results.length} results as JSON.`);
  }

  exportCsv(): void {
    if (this.results.length === 0) return;
    downloadText(timestampedName('attention-results', 'csv'), toCsv(this.results), 'text/csv');
    this.setNotice('info', `Exported ${this.results.length} results as CSV.`);
  }

  async copy(format: 'json' | 'csv'): Promise<void> {
    const file = this.resultsFile();
    if (!file) return;
    const text = format === 'json' ? JSON.stringify(file, null, 2) : toCsv(file.results);
    try {
      await navigator.clipboard.writeText(text);
      this.setNotice('info', `Copied ${file.results.length} results as ${format.toUpperCase()} to the clipboard.`);
    } catch (error) {
      this.setNotice('error', `The clipboard refused the copy (${(error as Error).message}); use Export instead.`);
    }
  }

  /** Loads a results file (from the CLI or another browser) as the baseline; the file is validated first. */
  importResults(name: string, text: string): void {
    try {
      const file = parseResultsFile(text);
      this.baseline = file;
      this.baselineName = name;
      const problem = saveBaseline(this.env.storage, file, name);
      const from = file.context.adapter.description || file.context.adapter.vendor || 'unknown adapter';
      this.setNotice(
        problem ? 'error' : 'info',
        problem ?? `Loaded ${file.results.length} results from ${name} (${from}, ${file.context.runtime}) as the baseline.`,
      );
    } catch (error) {
      this.setNotice('error', `${name}: ${(error as Error).message}`);
    }
  }

  /** Clears results without asking first (dialogs get in the way); the notice offers an undo instead. */
  clearResults(): void {
    const previous = this.results;
    this.results = [];
    this.previous = [];
    this.tunings = [];
    this.persistResults();
    this.notice = {
      level: 'info',
      text: `Cleared ${previous.length} results.`,
      action: {
        label: 'Undo',
        run: () => {
          // Rows measured since the clear are newer than the restored ones of the same kernel and shape.
          this.results = this.results.reduce((all, r) => mergeRecord(all, r), previous);
          this.persistResults();
          this.setNotice('info', `Restored ${previous.length} results.`);
        },
      },
    };
    this.changed();
  }

  clearPrevious(): void {
    this.previous = [];
    this.changed();
  }

  clearBaseline(): void {
    this.baseline = null;
    this.baselineName = null;
    saveBaseline(this.env.storage, null);
    this.setNotice('info', 'Baseline removed.');
  }

  dismissNotice(): void {
    this.notice = null;
    this.changed();
  }

  // ---- Plumbing ----

  private setNotice(level: Notice['level'], text: string): void {
    this.notice = { level, text };
    this.changed();
  }

  private addLog(level: LogEntry['level'], text: string): void {
    this.log = [...this.log.slice(-(LOG_LIMIT - 1)), { time: new Date(), level, text }];
  }

  private changed(): void {
    this.host.requestUpdate();
  }
}
