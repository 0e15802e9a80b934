import { parseFieldList } from '../../attention/field-text.js';
import { FAMILIES, KERNELS } from '../../attention/registry.js';
import type { KernelDescriptor, Tiles } from '../../attention/types.js';
import { DEFAULT_CONFIG, LIMITS, type PageConfig, axisField, defaultConfig, formatSeqList, parseSeqList, problemOf } from './config.js';

/*
 * The query string holds the whole configuration so that a link reproduces a setup on another
 * machine. Every field is written, defaults included, so a link keeps its meaning when the page's
 * defaults change; a field that follows another (KV heads, the query length) only when set. The
 * keys are the family's own (each field's `url`); tiles appear only for pinned kernels, one
 * parameter per tunable ("flash.br=64"), readable and editable by hand:
 *
 *   ?f=dense&k=naive,flash&b=1&h=8&d=64&causal=0&n=256,512,1024&samples=10&tune=24&flash.br=64
 */

/** Commas, colons and dots stay literal: they are legal in a query and keep lists readable. */
const enc = (value: string) => encodeURIComponent(value).replaceAll('%2C', ',').replaceAll('%3A', ':');

const RUN_FIELDS = { samples: 'samples', tuneMaxConfigs: 'tune' } as const;

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

  const used = new Set(['f', 'k', ...Object.values(RUN_FIELDS)]);
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

export { axisField };
