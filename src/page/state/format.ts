/** Number formatting shared by the table, plots and panels. */

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[unit]}`;
}

/** Milliseconds with three significant digits (0.0123, 1.23, 123). */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 100) return ms.toFixed(0);
  return ms.toPrecision(3);
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return value.toFixed(0);
  return value.toPrecision(digits);
}

export function formatError(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return value === 0 ? '0' : value.toExponential(1);
}

export function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e4 ? 1 : 2)} µs`;
  return `${ns} ns`;
}

/** A token count with binary suffixes, as the length fields read them: 1024 → "1k", 1048576 → "1M", 96 → "96". */
export function formatTokens(n: number): string {
  const short = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(3));
  if (n >= 1 << 20) return `${short(n / (1 << 20))}M`;
  if (n >= 1024) return `${short(n / 1024)}k`;
  return short(n);
}

/** A prefix and its factor, for rates with units that span nine decades (SwiftShader to an H200). */
export interface UnitScale {
  prefix: string;
  factor: number;
}

const PREFIXES: UnitScale[] = [
  { prefix: 'P', factor: 1e15 },
  { prefix: 'T', factor: 1e12 },
  { prefix: 'G', factor: 1e9 },
  { prefix: 'M', factor: 1e6 },
  { prefix: 'k', factor: 1e3 },
  { prefix: '', factor: 1 },
];

/** The largest prefix that keeps `perSecond` at 1 or more (the smallest for zero and tiny values). */
export function unitScale(perSecond: number): UnitScale {
  const v = Math.abs(perSecond);
  return PREFIXES.find((p) => v >= p.factor) ?? PREFIXES[PREFIXES.length - 1]!;
}

function formatRate(perSecond: number | null | undefined, unit: string): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—';
  if (perSecond === 0) return `0 ${unit}`;
  const s = unitScale(perSecond);
  return `${formatNumber(perSecond / s.factor)} ${s.prefix}${unit}`;
}

/** A TFLOP/s figure with the unit that suits it: 0.0000816 → "81.6 MFLOP/s". */
export function formatFlops(tflops: number | null | undefined): string {
  return formatRate(tflops === null || tflops === undefined ? tflops : tflops * 1e12, 'FLOP/s');
}

/** A GB/s figure (10⁹ bytes per second) with the unit that suits it: 0.5 → "500 MB/s", 3200 → "3.20 TB/s". */
export function formatBandwidth(gbps: number | null | undefined): string {
  return formatRate(gbps === null || gbps === undefined ? gbps : gbps * 1e9, 'B/s');
}
