/** What a line chart draws, shared by the uPlot component and the SVG export so both show the same thing. */

export interface ChartBand {
  /** The band's low and high edge per x (p20 and p80 for time), null where there is none. */
  lo: (number | null)[];
  hi: (number | null)[];
}

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Dashed: a baseline drawn under the live line of the same kernel, or a limit. */
  dashed: boolean;
  /** A shaded band around the line (the run-to-run spread); absent when the rows have no percentiles. */
  band?: ChartBand;
  /** Drawn without point markers (a limit line is not data). */
  noPoints?: boolean;
}

/** A vertical line at one x with a label: where something stops fitting. */
export interface ChartMarker {
  x: number;
  label: string;
  color: string;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Ascending; drawn on a log₂ scale (every x the page plots is a positive count). */
  xs: number[];
  series: ChartSeries[];
  /** Log scale on y as well as x. */
  yLog: boolean;
  formatY: (value: number) => string;
  /** Labels of the x ticks (default: the rounded value). */
  formatX?: (value: number) => string;
  /** Shown in place of the chart when there is nothing to draw. */
  emptyText: string;
  markers?: ChartMarker[];
}

/** A file name for an exported chart: its title in lower case, runs of other characters as one dash. */
export function chartFileStem(title: string): string {
  return (
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'chart'
  );
}
