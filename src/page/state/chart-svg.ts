import type { ChartSeries, ChartSpec } from './chart-spec.js';

/*
 * A chart as a standalone SVG file, drawn from its data rather than copied from the canvas, so
 * the export stays vector, opens in any viewer and can be edited: title, log₂ x axis, log₁₀ or
 * linear y axis with ticks, one polyline per series with its p20–p80 band, markers, legend.
 */

const W = 720;
const PLOT_H = 360;
const M = { left: 76, right: 20, top: 40, bottom: 50 };
const LEGEND_ROW = 18;
const FONT = 'font-family="sans-serif"';

export const escapeXml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const f = (v: number) => (Math.round(v * 10) / 10).toString();

/** Ticks of a log₁₀ axis over [lo, hi] (logs): every decade, with 2 and 5 between when fewer than two decades show. */
export function logTicks(lo: number, hi: number): number[] {
  const decades: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) decades.push(10 ** e);
  const inside = (v: number) => Math.log10(v) >= lo - 1e-9 && Math.log10(v) <= hi + 1e-9;
  const plain = decades.filter(inside);
  if (plain.length >= 2) return plain;
  return decades.flatMap((d) => [d, 2 * d, 5 * d]).filter(inside);
}

/** Ticks of a linear axis from 0 to max at a step of 1, 2 or 5 times a power of ten (about five ticks). */
export function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let i = 0; i * step <= max * (1 + 1e-9); i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Where the legend's entries go: rows that wrap at the plot's width (label widths estimated, the SVG has no text metrics). */
function legendLayout(series: readonly ChartSeries[]): { x: number; row: number }[] {
  const out: { x: number; row: number }[] = [];
  let x = M.left;
  let row = 0;
  for (const s of series) {
    const width = 34 + s.label.length * 6.6;
    if (x + width > W - M.right && x > M.left) {
      x = M.left;
      row++;
    }
    out.push({ x, row });
    x += width;
  }
  return out;
}

export function chartSvg(spec: ChartSpec): string {
  const legend = legendLayout(spec.series);
  const rows = legend.length === 0 ? 0 : legend.at(-1)!.row + 1;
  const H = M.top + PLOT_H + M.bottom + rows * LEGEND_ROW + 8;
  const parts: string[] = [`<title>${escapeXml(spec.title)}</title>`, `<rect width="${W}" height="${H}" fill="#ffffff"/>`];
  parts.push(`<text x="${W / 2}" y="22" font-size="15" font-weight="600" text-anchor="middle">${escapeXml(spec.title)}</text>`);
  const positive = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v) && (!spec.yLog || v > 0);
  const ys = spec.series.flatMap((s) => [...s.values, ...(s.band?.lo ?? []), ...(s.band?.hi ?? [])]).filter(positive);
  const xs = spec.xs.filter((x) => x > 0);
  if (xs.length === 0 || ys.length === 0) {
    parts.push(`<text x="${W / 2}" y="${M.top + PLOT_H / 2}" font-size="13" text-anchor="middle" fill="#666">${escapeXml(spec.emptyText)}</text>`);
    return wrap(parts, H);
  }
  const left = M.left;
  const right = W - M.right;
  const top = M.top;
  const bottom = M.top + PLOT_H;
  // x: log₂, half a doubling of margin either side so end points are not on the frame.
  const [x0, x1] = [Math.log2(Math.min(...xs)) - 0.25, Math.log2(Math.max(...xs)) + 0.25];
  const px = (x: number) => left + ((Math.log2(x) - x0) / (x1 - x0)) * (right - left);
  let py: (y: number) => number;
  let yTicks: number[];
  if (spec.yLog) {
    const [lo, hi] = [Math.log10(Math.min(...ys)), Math.log10(Math.max(...ys))];
    const pad = Math.max(0.1, (hi - lo) * 0.05);
    const [y0, y1] = [lo - pad, hi + pad];
    py = (y) => bottom - ((Math.log10(y) - y0) / (y1 - y0)) * (bottom - top);
    yTicks = logTicks(y0, y1);
  } else {
    const max = Math.max(...ys) * 1.1 || 1;
    py = (y) => bottom - (y / max) * (bottom - top);
    yTicks = linearTicks(max);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#999"/>`);
  for (const t of yTicks) {
    const y = f(py(t));
    parts.push(`<line x1="${left}" x2="${right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 6}" y="${y}" font-size="11" text-anchor="end" dominant-baseline="middle">${escapeXml(spec.formatY(t))}</text>`);
  }
  // Every plotted x is a tick when they fit; else every other one.
  const every = Math.ceil(xs.length / 12);
  xs.forEach((x, i) => {
    if (i % every !== 0) return;
    const label = spec.formatX ? spec.formatX(x) : String(Math.round(x));
    parts.push(`<line x1="${f(px(x))}" x2="${f(px(x))}" y1="${top}" y2="${bottom}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${f(px(x))}" y="${bottom + 16}" font-size="11" text-anchor="middle">${escapeXml(label)}</text>`);
  });
  parts.push(`<text x="${(left + right) / 2}" y="${bottom + 36}" font-size="12" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" font-size="12" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  const point = (x: number, y: number | null | undefined) => (x > 0 && positive(y) ? `${f(px(x))},${f(py(y))}` : null);
  for (const s of spec.series) {
    if (!s.band) continue;
    // One polygon per run of x with both edges: the low edge forward, the high edge back.
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) {
        // A single x gets a bar 6 px wide: a band of no width would not show.
        const at = (i: number, v: number | null | undefined, dx: number) => `${f(px(spec.xs[i]!) + dx)},${f(py(v!))}`;
        const widen = run.length === 1 ? [-3, 3] : [0];
        const lo = run.flatMap((i) => widen.map((dx) => at(i, s.band!.lo[i], dx)));
        const hi = run.flatMap((i) => [...widen].reverse().map((dx) => at(i, s.band!.hi[i], dx))).reverse();
        parts.push(`<polygon points="${[...lo, ...hi].join(' ')}" fill="${s.color}" fill-opacity="0.15" stroke="none" data-band="${escapeXml(s.label)}"/>`);
      }
      run = [];
    };
    spec.xs.forEach((x, i) => (point(x, s.band!.lo[i]) && point(x, s.band!.hi[i]) ? run.push(i) : flush()));
    flush();
  }
  for (const m of spec.markers ?? []) {
    if (!(m.x > 0)) continue;
    const x = f(px(Math.min(Math.max(m.x, 2 ** x0), 2 ** x1)));
    parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="${m.color}" stroke-dasharray="3 3" data-marker="${m.x}"/>`);
    parts.push(`<text x="${x}" y="${top + 12}" dx="4" font-size="11" fill="${m.color}">${escapeXml(m.label)}</text>`);
  }
  for (const s of spec.series) {
    // One group per series, named by its label, so a series of a single point is still found by name.
    const pts = spec.xs.map((x, i) => point(x, s.values[i])).filter((p): p is string => p !== null);
    const dash = s.dashed ? ' stroke-dasharray="6 5"' : '';
    parts.push(`<g data-series="${escapeXml(s.label)}">`);
    if (pts.length > 1) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (!s.noPoints)
      for (const p of pts) {
        const [cx, cy] = p.split(',');
        parts.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${s.dashed ? '#ffffff' : s.color}" stroke="${s.color}"/>`);
      }
    parts.push('</g>');
  }
  const legendTop = bottom + M.bottom + 4;
  spec.series.forEach((s, i) => {
    const { x, row } = legend[i]!;
    const y = legendTop + row * LEGEND_ROW;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${x + 27}" y="${y}" font-size="12" dominant-baseline="middle">${escapeXml(s.label)}</text>`);
  });
  return wrap(parts, H);
}

function wrap(parts: string[], height: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ${FONT}>${parts.join('')}</svg>\n`;
}
