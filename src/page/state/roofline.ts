import { KERNELS } from '../../attention/registry.js';
import { isTimed } from '../../results/match.js';
import { problemOf } from '../../results/label.js';
import { type Ceilings, intensityOf, rooflineFraction } from '../../results/roofline.js';
import type { ResultRecord } from '../../results/schema.js';

/** One timed result on the roofline. */
export interface RooflinePoint {
  kernel: string;
  /** The swept field's value (e.g. the sequence length), which labels the point. */
  label: string;
  /** FLOPs per modelled byte. */
  x: number;
  /** Achieved TFLOP/s. */
  y: number;
  /** Of the roofline bound; null without ceilings. */
  fraction: number | null;
  /** Index of the record in the results given. */
  index: number;
}

export interface RoofSeries {
  label: string;
  /** y per xs, null where the line is not drawn. */
  values: (number | null)[];
}

export interface RooflineData {
  /** Every x drawn, ascending: point intensities, ridge points and the range ends. */
  xs: number[];
  points: RooflinePoint[];
  /** Kernels with points, in registry order. */
  kernels: string[];
  /** The bandwidth slope, then one flat line per compute roof from its ridge point on; empty without ceilings. */
  roofs: RoofSeries[];
  /** Per kernel, y per xs (null where the kernel has no point). */
  kernelValues: (number | null)[][];
}

/** Compute roofs of the ceilings, highest last. */
export function computeRoofs(c: Ceilings): { label: string; tflops: number }[] {
  const roofs = [{ label: 'f32 FMA', tflops: c.f32Tflops }];
  if (c.f16Tflops !== undefined) roofs.push({ label: 'f16 FMA', tflops: c.f16Tflops });
  if (c.mmaTflops !== undefined) roofs.push({ label: 'subgroup matrix', tflops: c.mmaTflops });
  return roofs.sort((a, b) => a.tflops - b.tflops);
}

/**
 * Points (timed rows that moved bytes; failed rows are left out, a wrong kernel's speed means
 * nothing) and, with ceilings, the roofs: y = intensity × bandwidth up to the highest roof, and
 * each compute roof flat from where the slope meets it.
 */
export function rooflineData(results: readonly ResultRecord[], ceilings: Ceilings | null): RooflineData {
  const points: RooflinePoint[] = [];
  results.forEach((r, index) => {
    const x = intensityOf(r);
    if (!isTimed(r) || r.tflops === null || x === null || x <= 0 || r.tflops <= 0) return;
    const axis = problemOf(r)?.axis;
    const value = axis ? r.shape[axis] : undefined;
    points.push({
      kernel: r.kernel,
      label: value === undefined ? '' : String(value),
      x,
      y: r.tflops,
      fraction: ceilings ? rooflineFraction(r, ceilings) : null,
      index,
    });
  });
  const known = KERNELS.map((k) => k.name);
  const kernels = [...new Set(points.map((p) => p.kernel))].sort((a, b) => rank(known, a) - rank(known, b) || a.localeCompare(b));
  const roofs = ceilings ? computeRoofs(ceilings) : [];
  const bw = ceilings ? ceilings.copyGBps / 1e3 : 0; // TFLOP/s per FLOP/byte
  const ridges = roofs.map((r) => r.tflops / bw);
  const anchors = [...points.map((p) => p.x), ...ridges];
  let xs: number[] = [];
  if (anchors.length > 0) {
    const lo = Math.min(...anchors) / 4;
    const hi = Math.max(...anchors) * 4;
    xs = [...new Set([lo, ...anchors, hi])].sort((a, b) => a - b);
  }
  const top = roofs.at(-1)?.tflops ?? 0;
  const series: RoofSeries[] = [];
  if (ceilings) {
    series.push({ label: `bandwidth ${ceilings.copyGBps.toPrecision(3)} GB/s`, values: xs.map((x) => (x * bw <= top * (1 + 1e-9) ? x * bw : null)) });
    roofs.forEach((roof, i) => {
      series.push({ label: `${roof.label} ${roof.tflops.toPrecision(3)} TFLOP/s`, values: xs.map((x) => (x >= ridges[i]! * (1 - 1e-9) ? roof.tflops : null)) });
    });
  }
  const kernelValues = kernels.map((k) => xs.map((x) => points.find((p) => p.kernel === k && p.x === x)?.y ?? null));
  return { xs, points, kernels, roofs: series, kernelValues };
}

function rank(known: string[], name: string): number {
  const i = known.indexOf(name);
  return i < 0 ? known.length : i;
}

/**
 * The roofline as a standalone SVG (Export SVG): log–log axes, the roofs, one circle per point
 * with its label. Drawn from the data, not the canvas, so it stays vector.
 */
export function rooflineSvg(data: RooflineData, colors: (kernel: string) => string, width = 720, height = 420): string {
  const m = { left: 64, right: 16, top: 16, bottom: 44 };
  const ys = [...data.points.map((p) => p.y), ...data.roofs.flatMap((r) => r.values.filter((v): v is number => v !== null))];
  if (data.xs.length === 0 || ys.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"></svg>`;
  const [x0, x1] = [Math.log10(data.xs[0]!), Math.log10(data.xs.at(-1)!)];
  const [y0, y1] = [Math.log10(Math.min(...ys)) - 0.3, Math.log10(Math.max(...ys)) + 0.3];
  const px = (x: number) => m.left + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * (width - m.left - m.right);
  const py = (y: number) => height - m.bottom - ((Math.log10(y) - y0) / (y1 - y0 || 1)) * (height - m.top - m.bottom);
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  const parts: string[] = [];
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#999"/>`);
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++)
    parts.push(`<text x="${px(10 ** e).toFixed(1)}" y="${height - m.bottom + 16}" font-size="11" text-anchor="middle">${10 ** e}</text>`);
  for (let e = Math.ceil(y0); e <= Math.floor(y1); e++)
    parts.push(`<text x="${m.left - 6}" y="${py(10 ** e).toFixed(1)}" font-size="11" text-anchor="end">${10 ** e}</text>`);
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" font-size="12" text-anchor="middle">arithmetic intensity (FLOP/byte)</text>`);
  parts.push(`<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" font-size="12" text-anchor="middle">TFLOP/s</text>`);
  for (const roof of data.roofs) {
    const pts = data.xs.map((x, i) => [x, roof.values[i]] as const).filter((p): p is readonly [number, number] => p[1] !== null);
    if (pts.length > 1)
      parts.push(
        `<polyline fill="none" stroke="#555" stroke-dasharray="6 4" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"><title>${esc(roof.label)}</title></polyline>`,
      );
  }
  for (const p of data.points) {
    parts.push(
      `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="4" fill="${colors(p.kernel)}" data-kernel="${esc(p.kernel)}" data-x="${p.x}" data-y="${p.y}"><title>${esc(`${p.kernel} ${p.label}`)}</title></circle>`,
    );
    parts.push(`<text x="${(px(p.x) + 6).toFixed(1)}" y="${(py(p.y) - 6).toFixed(1)}" font-size="10">${esc(p.label)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">${parts.join('')}</svg>`;
}
