import { TileError } from '../errors.js';
import type { DeviceCaps, DeviceLimits } from '../gpu/caps.js';
import type { ConfigProblem, KernelDescriptor, Tiles } from './types.js';

/** A problem when `requested` exceeds the device limit `limit`. */
export function overLimit(caps: DeviceCaps, limit: keyof DeviceLimits, requested: number, what: string): ConfigProblem[] {
  const available = caps.limits[limit];
  if (requested <= available) return [];
  return [
    {
      limit,
      requested,
      available,
      message: `${what} needs ${formatCount(requested, limit)} but ${limit} is ${formatCount(available, limit)}`,
    },
  ];
}

/** A problem for a kernel's own rule (not a device limit). */
export function ruleProblem(limit: string, requested: number, available: number, message: string): ConfigProblem {
  return { limit, requested, available, message };
}

function formatCount(value: number, limit: string): string {
  if (!/Size$/.test(limit)) return String(value);
  if (value >= 1 << 20) return `${value} bytes (${(value / (1 << 20)).toFixed(1)} MiB)`;
  if (value >= 1 << 10) return `${value} bytes (${(value / (1 << 10)).toFixed(1)} KiB)`;
  return `${value} bytes`;
}

/** Merges user tiles over defaults, refusing unknown keys and values outside a tunable's list. */
export function resolveTiles(kernel: KernelDescriptor, defaults: Tiles, given: Partial<Tiles> | undefined): Tiles {
  const tiles: Record<string, number> = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    const tunable = kernel.tunables.find((t) => t.key === key);
    if (!tunable) {
      throw new TileError(`${kernel.name} has no tile parameter "${key}"; it has ${kernel.tunables.map((t) => t.key).join(', ')}`, key, value);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new TileError(`${kernel.name} ${tunable.label} (${key}) must be a number, got ${JSON.stringify(value)}`, key, Number.NaN);
    }
    if (!tunable.values.includes(value)) {
      throw new TileError(`${kernel.name} ${tunable.label} = ${value} is not one of ${tunable.values.join(', ')}`, key, value);
    }
    tiles[key] = value;
  }
  return tiles;
}

/** Every combination of a kernel's tunable values (the autotuner prunes this by check()). */
export function tileSpace(kernel: KernelDescriptor): Tiles[] {
  let configs: Tiles[] = [{}];
  for (const t of kernel.tunables) {
    configs = configs.flatMap((c) => t.values.map((v) => ({ ...c, [t.key]: v })));
  }
  return configs;
}

/**
 * The configurations the autotuner considers: the kernel's searchSpace crossed, with every
 * tunable it does not list held at `defaults`. Without a searchSpace, the whole tile space.
 */
export function searchSpace(kernel: KernelDescriptor, defaults: Tiles): Tiles[] {
  if (!kernel.searchSpace) return tileSpace(kernel);
  let configs: Tiles[] = [{}];
  for (const t of kernel.tunables) {
    const values: readonly number[] = (kernel.searchSpace as Record<string, readonly number[] | undefined>)[t.key] ?? [defaults[t.key]!];
    configs = configs.flatMap((c) => values.map((v) => ({ ...c, [t.key]: v })));
  }
  return configs;
}

/** Grid dimensions for `count` workgroups: x up to the per-dimension limit, the rest in y. */
export function spreadGrid(count: number, maxPerDimension: number): [number, number] {
  if (count <= maxPerDimension) return [Math.max(1, count), 1];
  const y = Math.ceil(count / maxPerDimension);
  return [Math.ceil(count / y), y];
}

export function tilesLabel(tiles: Partial<Tiles>): string {
  return Object.entries(tiles)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
