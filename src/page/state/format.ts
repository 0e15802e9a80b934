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
