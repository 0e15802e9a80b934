import { KERNELS } from '../../attention/registry.js';
import type { KernelDescriptor, Tiles } from '../../attention/types.js';
import { DEFAULT_CONFIG, LIMITS, type PageConfig, formatSeqList, parseSeqList } from './config.js';

/*
 * The query string holds the whole configuration so that a link reproduces a setup on another
 * machine. Every field is written, defaults included, so a link keeps its meaning when the page's
 * defaults change. Tiles appear only for pinned kernels, one parameter per tunable
 * ("flash.br=64"), readable and editable by hand:
 *
 *   ?k=naive,flash&b=1&h=8&kvh=8&d=64&n=256,512,1024&causal=0&samples=10&tune=24&flash.br=64&flash.bc=32
 */

const FIELDS = { batch: 'b', heads: 'h', kvHeads: 'kvh', headDim: 'd', samples: 'samples', tuneMaxConfigs: 'tune' } as const;
const FIELD_LIMITS = {
  batch: LIMITS.batch,
  heads: LIMITS.heads,
  kvHeads: LIMITS.kvHeads,
  headDim: LIMITS.headDim,
  samples: LIMITS.samples,
  tuneMaxConfigs: LIMITS.tuneMaxConfigs,
} as const;

/** Commas and dots stay literal: they are legal in a query and keep lists readable. */
const enc = (value: string) => encodeURIComponent(value).replaceAll('%2C', ',');

export function encodeConfig(config: PageConfig, kernels: readonly KernelDescriptor[] = KERNELS): string {
  const parts: [string, string][] = [
    ['k', config.kernels.join(',')],
    [FIELDS.batch, String(config.batch)],
    [FIELDS.heads, String(config.heads)],
    [FIELDS.kvHeads, String(config.kvHeads)],
    [FIELDS.headDim, String(config.headDim)],
    ['n', config.seqs.join(',')],
    ['causal', config.causal ? '1' : '0'],
    [FIELDS.samples, String(config.samples)],
    [FIELDS.tuneMaxConfigs, String(config.tuneMaxConfigs)],
  ];
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
  const config: PageConfig = { ...base, kernels: [...base.kernels], seqs: [...base.seqs], tiles: {} };

  const k = params.get('k');
  if (k !== null) {
    const names = k.split(',').map((s) => s.trim()).filter(Boolean);
    const known = names.filter((n) => kernels.some((kd) => kd.name === n));
    for (const n of names) if (!known.includes(n)) notes.push(`k: unknown kernel "${n}" ignored (known: ${kernels.map((kd) => kd.name).join(', ')})`);
    // Keep the registry's order, so that tables and plots list kernels the same way for everyone.
    config.kernels = kernels.map((kd) => kd.name).filter((n) => known.includes(n));
  }

  for (const [field, key] of Object.entries(FIELDS) as [keyof typeof FIELDS, string][]) {
    const raw = params.get(key);
    if (raw === null) continue;
    const n = Number(raw);
    const { min, max } = FIELD_LIMITS[field];
    if (!Number.isInteger(n) || n < min || n > max) notes.push(`${key}=${raw}: expected a whole number from ${min} to ${max}; kept ${config[field]}`);
    else config[field] = n;
  }

  const n = params.get('n');
  if (n !== null) {
    const parsed = parseSeqList(n);
    if ('error' in parsed) notes.push(`n=${n}: ${parsed.error}; kept ${formatSeqList(config.seqs)}`);
    else config.seqs = parsed.values;
  }

  const causal = params.get('causal');
  if (causal !== null) {
    if (causal === '1' || causal === 'true') config.causal = true;
    else if (causal === '0' || causal === 'false') config.causal = false;
    else notes.push(`causal=${causal}: expected 0 or 1`);
  }

  for (const [key, raw] of params) {
    const dot = key.lastIndexOf('.');
    if (dot <= 0) {
      if (!KNOWN_KEYS.has(key)) notes.push(`${key}: unknown parameter ignored`);
      continue;
    }
    const kernel = kernels.find((kd) => kd.name === key.slice(0, dot));
    const tunable = kernel?.tunables.find((t) => t.key === key.slice(dot + 1));
    const value = Number(raw);
    if (!kernel || !tunable) {
      notes.push(`${key}: no such kernel tile parameter; ignored`);
    } else if (!tunable.values.includes(value)) {
      notes.push(`${key}=${raw}: ${kernel.name} ${tunable.label} takes ${tunable.values.join(', ')}; ignored`);
    } else {
      const tiles: Partial<Tiles> = config.tiles[kernel.name] ?? {};
      tiles[tunable.key] = value;
      config.tiles[kernel.name] = tiles;
    }
  }
  return { config, notes };
}

const KNOWN_KEYS = new Set(['k', 'n', 'causal', ...Object.values(FIELDS)]);
