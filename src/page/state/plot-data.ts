import { KERNELS } from '../../attention/registry.js';
import type { ResultRecord } from '../../results/schema.js';
import { type PageConfig, problemOf } from './config.js';
import { type XChoice, fieldName, numberAt, rowsFor } from './plot-axes.js';
import { PAGE_TAG, isTimed } from './results.js';

export interface PlotSeries {
  label: string;
  kernel: string;
  baseline: boolean;
  /** The configuration before the latest tile edit; drawn dashed like the baseline. */
  previous: boolean;
  /** Median ms per x, null where there is no timed row. */
  ms: (number | null)[];
  tflops: (number | null)[];
  /** The row behind each x (the fastest where several match), for other metrics and the p20–p80 band. */
  rows: (ResultRecord | undefined)[];
}

export interface PlotData {
  /** Values of the x field (the sequence length unless another is chosen), ascending. */
  xs: number[];
  series: PlotSeries[];
}

/** The x axis on the swept field, the default. */
export function axisChoice(config: PageConfig): XChoice {
  const problem = problemOf(config);
  return { key: problem.axis, label: fieldName(problem.fields.find((f) => f.key === problem.axis)!.label), held: null };
}

/**
 * One line per kernel over the x field (the swept field, the sequence length, unless another is
 * chosen) for the configured shape (every other field as configured): the page's live rows, and
 * the baseline's fastest row per kernel and x. Failed rows are left out, since a wrong kernel's
 * speed means nothing.
 */
export function plotData(
  results: readonly ResultRecord[],
  baseline: readonly ResultRecord[],
  config: PageConfig,
  previous: readonly ResultRecord[] = [],
  x: XChoice = axisChoice(config),
): PlotData {
  const xOf = (r: ResultRecord) => numberAt(r, x.key);
  const pick = (rows: readonly ResultRecord[]) => rowsFor(rows, config, x).filter(isTimed);
  const live = pick(results.filter((r) => r.tag === PAGE_TAG));
  const base = pick(baseline);
  const before = pick(previous);
  const xs = [...new Set([...live, ...base, ...before].map(xOf))].sort((a, b) => a - b);
  const order = (names: Iterable<string>) => {
    const set = new Set(names);
    const known = KERNELS.map((k) => k.name).filter((n) => set.has(n));
    return [...known, ...[...set].filter((n) => !known.includes(n)).sort()];
  };
  const series: PlotSeries[] = [];
  const build = (rows: ResultRecord[], isBaseline: boolean, isPrevious = false) => {
    for (const kernel of order(rows.map((r) => r.kernel))) {
      const best = xs.map((x) => rows.filter((r) => r.kernel === kernel && xOf(r) === x).sort((a, b) => a.medianMs! - b.medianMs!)[0]);
      series.push({
        label: isBaseline ? `${kernel} (baseline)` : isPrevious ? `${kernel} (previous)` : kernel,
        kernel,
        baseline: isBaseline,
        previous: isPrevious,
        ms: best.map((r) => r?.medianMs ?? null),
        tflops: best.map((r) => r?.tflops ?? null),
        rows: best,
      });
    }
  };
  build(live, false);
  build(before, false, true);
  build(base, true);
  return { xs, series };
}

/**
 * Least-squares slope of log(time) against log(N): about 2 for work that grows as N², which is
 * what both kernels do in FLOPs; the gap between them is memory traffic and launch overhead.
 * Null with fewer than two timed lengths.
 */
export function loglogSlope(xs: readonly number[], ys: readonly (number | null)[]): number | null {
  const pts: [number, number][] = [];
  xs.forEach((x, i) => {
    const y = ys[i];
    if (y !== null && y !== undefined && y > 0 && x > 0) pts.push([Math.log(x), Math.log(y)]);
  });
  if (pts.length < 2) return null;
  const mx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const my = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of pts) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}
