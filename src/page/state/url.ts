import { parseFieldList } from '../../attention/field-text.js';
import { FAMILIES, KERNELS } from '../../attention/registry.js';
import type { KernelDescriptor, Tiles } from '../../attention/types.js';
import { DEFAULT_CONFIG, LIMITS, type PageConfig, axisField, defaultConfig, formatSeqList, parseSeqList, problemOf } from './config.js';
import { METRICS } from './plot-metric.js';
import { DEFAULT_PLOT_VIEW, type PlotView, isMetricKey } from './view.js';

/*
 * The query string holds the whole configuration so that a link reproduces a setup on another
 * machine. Every field is written, defaults included, so a link keeps its meaning when the page's
 * defaults change; a field that follows another (KV heads, the query length) only when set. The
 * keys are the family's own (each field's `url`); tiles appear only for pinned kernels, one
 * parameter per tunable ("flash.br=64"), readable and editable by hand:
 *
 *   ?f=dense&k=naive,flash&b=1&h=8&d=64&causal=0&n=256,512,1024&samples=10&tune=24&flash.br=64
 *
 * After them, only when the user chose one, the results plots' view (view.ts says why these and
 * not the comparison's choices): `x` the x axis's field by its URL key, `y` the metric:
 *
 *   ...&x=d&y=gbps
 */

/** Commas, colons and dots stay literal: they are legal in a query and keep lists readable. */
const enc = (value: string) => encodeURIComponent(value).replaceAll('%2C', ',').replaceAll('%3A', ':');

const RUN_FIELDS = { samples: 'samples', tuneMaxConfigs: 'tune' } as const;
/** The plots' view parameters; no family field uses these keys (url-fuzz.test.ts checks the URL keys stay apart). */
export const VIEW_PARAMS = { x: 'x', metric: 'y' } as const;

export function encodeConfig(config: PageConfig, kernels: readonly KernelDescriptor[] = KERNELS): string {
  const problem = problemOf(config);
  const parts: [string, string][] = [
    ['f', problem.family],
    ['k', config.kernels.join(',')],
  ];
  for (const field of problem.fields) {
    if (field.key === problem.axis) {
      parts.push([field.url, config.seqs.join(',')]);
      continue;
    }
    const v = config.shape[field.key];
    if (v === undefined) continue;
    parts.push([field.url, typeof v === 'boolean' ? (v ? '1' : '0') : Array.isArray(v) ? v.join(':') : String(v)]);
  }
  parts.push([RUN_FIELDS.samples, String(config.samples)], [RUN_FIELDS.tuneMaxConfigs, String(config.tuneMaxConfigs)]);
  for (const kernel of kernels) {
    const tiles = config.tiles[kernel.name];
    if (!tiles) continue;
    for (const t of kernel.tunables) {
      const value = tiles[t.key];
      if (value !== undefined) parts.push([`${kernel.name}.${t.key}`, String(value)]);
    }
  }
  return `?${parts.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`;
}

export interface DecodedConfig {
  config: PageConfig;
  /** Parameters that were present but ignored, and why: shown to the user, never dropped silently. */
  notes: string[];
}

/** Reads a configuration from a query string; what is missing keeps its default. */
export function decodeConfig(search: string, kernels: readonly KernelDescriptor[] = KERNELS, base: PageConfig = DEFAULT_CONFIG): DecodedConfig {
  const params = new URLSearchParams(search);
  const notes: string[] = [];
  let start = base;
  const f = params.get('f');
  if (f !== null && f !== base.family) {
    if (FAMILIES.some((x) => x.problem.family === f)) start = defaultConfig(f);
    else notes.push(`f: unknown family "${f}" ignored (known: ${FAMILIES.map((x) => x.problem.family).join(', ')})`);
  }
  const problem = problemOf(start);
  const config: PageConfig = { ...start, kernels: [...start.kernels], shape: { ...start.shape }, seqs: [...start.seqs], tiles: {} };
  const familyKernels = kernels.filter((kd) => kd.problem.family === problem.family);

  const k = params.get('k');
  if (k !== null) {
    const names = k
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const known = names.filter((n) => familyKernels.some((kd) => kd.name === n));
    for (const n of names) {
      if (!known.includes(n)) notes.push(`k: kernel "${n}" ignored (${problem.family} kernels: ${familyKernels.map((kd) => kd.name).join(', ')})`);
    }
    // Keep the registry's order, so that tables and plots list kernels the same way for everyone.
    config.kernels = familyKernels.map((kd) => kd.name).filter((n) => known.includes(n));
  }

  // The view's parameters are read by decodePlotView, which notes its own.
  const used = new Set(['f', 'k', ...Object.values(RUN_FIELDS), ...Object.values(VIEW_PARAMS)]);
  for (const field of problem.fields) {
    used.add(field.url);
    const raw = params.get(field.url);
    if (raw === null) continue;
    if (field.key === problem.axis) {
      const parsed = parseSeqList(raw, problem);
      if ('error' in parsed) notes.push(`${field.url}=${raw}: ${parsed.error}; kept ${formatSeqList(config.seqs)}`);
      else config.seqs = parsed.values;
      continue;
    }
    const parsed = parseFieldList(field, raw);
    if ('error' in parsed || parsed.values.length !== 1) {
      notes.push(`${field.url}=${raw}: ${'error' in parsed ? parsed.error : 'one value expected'}; kept ${String(config.shape[field.key] ?? 'the default')}`);
    } else config.shape[field.key] = parsed.values[0]!;
  }

  for (const [field, key] of Object.entries(RUN_FIELDS) as [keyof typeof RUN_FIELDS, string][]) {
    const raw = params.get(key);
    if (raw === null) continue;
    const n = Number(raw);
    const { min, max } = LIMITS[field];
    if (!Number.isInteger(n) || n < min || n > max) notes.push(`${key}=${raw}: expected a whole number from ${min} to ${max}; kept ${config[field]}`);
    else config[field] = n;
  }

  for (const [key, raw] of params) {
    const dot = key.lastIndexOf('.');
    if (dot <= 0) {
      if (!used.has(key)) notes.push(`${key}: not a ${problem.family} parameter; ignored`);
      continue;
    }
    const kernel = familyKernels.find((kd) => kd.name === key.slice(0, dot));
    const tunable = kernel?.tunables.find((t) => t.key === key.slice(dot + 1));
    const value = Number(raw);
    if (!kernel || !tunable) {
      notes.push(`${key}: no such kernel tile parameter; ignored`);
    } else if (!tunable.values.includes(value)) {
      notes.push(`${key}=${raw}: ${kernel.name} ${tunable.label} takes ${tunable.values.join(', ')}; ignored`);
    } else {
      const tiles: Record<string, number> = { ...(config.tiles[kernel.name] as Record<string, number> | undefined) };
      tiles[tunable.key] = value;
      config.tiles[kernel.name] = tiles;
    }
  }
  return { config, notes };
}

/** The whole-number fields the plots' x axis can show (plot-axes.ts offers no others). */
const xFields = (config: PageConfig) => problemOf(config).fields.filter((f) => f.kind === 'int');

/** The plots' view as query parameters (none for a default); an x the family lacks is left out. */
export function encodePlotView(view: PlotView, config: PageConfig): [string, string][] {
  const parts: [string, string][] = [];
  const x = view.x === null ? undefined : xFields(config).find((f) => f.key === view.x);
  if (x) parts.push([VIEW_PARAMS.x, x.url]);
  if (view.metric !== null) parts.push([VIEW_PARAMS.metric, view.metric]);
  return parts;
}

/** Reads the plots' view from a query string decoded into `config`; a value it cannot use is noted and ignored. */
export function decodePlotView(search: string, config: PageConfig): { view: PlotView; notes: string[] } {
  const params = new URLSearchParams(search);
  const notes: string[] = [];
  const view: PlotView = { ...DEFAULT_PLOT_VIEW };
  const x = params.get(VIEW_PARAMS.x);
  if (x !== null) {
    const fields = xFields(config);
    const field = fields.find((f) => f.url === x);
    if (field) view.x = field.key;
    else notes.push(`${VIEW_PARAMS.x}=${x}: the plots' x axis takes ${fields.map((f) => f.url).join(', ')} for ${config.family}; ignored`);
  }
  const metric = params.get(VIEW_PARAMS.metric);
  if (metric !== null) {
    if (isMetricKey(metric)) view.metric = metric;
    else notes.push(`${VIEW_PARAMS.metric}=${metric}: the plots' metric takes ${METRICS.map((m) => m.key).join(', ')}; ignored`);
  }
  return { view, notes };
}

/** The address bar's query: the configuration, then the plots' view. */
export function encodeSearch(config: PageConfig, view: PlotView, kernels: readonly KernelDescriptor[] = KERNELS): string {
  const extra = encodePlotView(view, config);
  return encodeConfig(config, kernels) + extra.map(([k, v]) => `&${enc(k)}=${enc(v)}`).join('');
}

/** Reads configuration and plots' view from one query string, with every note of both. */
export function decodeSearch(search: string, kernels: readonly KernelDescriptor[] = KERNELS): DecodedConfig & { view: PlotView } {
  const decoded = decodeConfig(search, kernels);
  const plot = decodePlotView(search, decoded.config);
  return { config: decoded.config, view: plot.view, notes: [...decoded.notes, ...plot.notes] };
}

export { axisField };
