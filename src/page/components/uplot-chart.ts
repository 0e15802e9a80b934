import { LitElement, css, html } from 'lit';
import uPlot from 'uplot';
import { downloadBlob, downloadText } from '../app/download.js';
import { type ChartSpec, chartFileStem } from '../state/chart-spec.js';
import { chartSvg } from '../state/chart-svg.js';
import { composeChartPng } from './chart-png.js';
import { figureStyles, shared } from './styles.js';
import { type AxisStyle, UplotHost, type UplotPlan, uplotStyles } from './uplot-host.js';

export type { ChartBand, ChartMarker, ChartSeries, ChartSpec } from '../state/chart-spec.js';

const HEIGHT = 260;
/** Space between the tick marks and their labels, in CSS px. */
const Y_GAP = 6;
/** Tick length (uPlot's default), in CSS px. */
const TICK_SIZE = 10;

/**
 * The y axis's width, from its widest tick label: a fixed width let long labels ("0.000082") run
 * under the axis title, which uPlot draws in its own band (labelSize) outside this width.
 */
function yAxisSize(u: uPlot, values: string[] | null, axisIdx: number): number {
  const axis = u.axes[axisIdx]!;
  let widest = 0;
  if (values) {
    u.ctx.save();
    u.ctx.font = (axis.font as unknown as [string, number] | undefined)?.[0] ?? u.ctx.font;
    for (const v of values) widest = Math.max(widest, u.ctx.measureText(String(v ?? '')).width);
    u.ctx.restore();
  }
  // measureText works in canvas pixels, which uPlot scales by the device pixel ratio.
  return Math.ceil(widest / uPlot.pxRatio) + TICK_SIZE + Y_GAP + 4;
}

/**
 * A uPlot line chart over a count (log base 2 on x), with PNG and SVG export. uPlot draws to a canvas and builds its
 * legend in the DOM; its stylesheet is adopted into this shadow root, where the page's CSS cannot reach.
 */
export class UplotChart extends LitElement {
  static override properties = { spec: { attribute: false } };
  static override styles = [
    shared,
    figureStyles,
    uplotStyles(HEIGHT, HEIGHT),
    css`
      figcaption {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 0.5rem;
      }
      figcaption .export {
        display: flex;
        gap: 0.25rem;
        font-weight: normal;
      }
      figcaption button {
        font-size: 0.75rem;
        padding: 0.1rem 0.4rem;
      }
    `,
  ];

  declare spec: ChartSpec;
  private readonly plot = new UplotHost(this, { height: HEIGHT, fallbackWidth: 480, plan: (style) => this.plan(style) });

  /** The uPlot instance drawn now, if any: the browser tests read its laid-out axes. */
  get chart(): uPlot | undefined {
    return this.plot.chart;
  }

  override render() {
    const empty = this.spec.xs.length === 0;
    const title = this.spec.title;
    return html`<figure>
      <figcaption>
        <span>${title}</span>
        <span class="export">
          <button type="button" ?disabled=${empty} aria-label=${`Export ${title} as PNG`} title="Download the chart as a PNG image" @click=${this.exportPng}>PNG</button>
          <button type="button" ?disabled=${empty} aria-label=${`Export ${title} as SVG`} title="Download the chart as an SVG file, drawn from its data" @click=${this.exportSvg}>SVG</button>
        </span>
      </figcaption>
      ${
        empty
          ? html`<div class="empty">${this.spec.emptyText}</div>`
          : html`<div class="plot" role="img" aria-label=${`${this.spec.title}: ${this.spec.series.map((s) => s.label).join(', ')}`}></div>`
      }
    </figure>`;
  }

  // Rebuilt on each update (UplotHost) rather than fed new data: the set of series (kernels, baseline) changes between updates.
  private plan({ axis }: AxisStyle): UplotPlan {
    const spec = this.spec;
    const edges = spec.series.flatMap((s) => [...(s.band?.lo ?? []), ...(s.band?.hi ?? [])]).filter((v): v is number => v !== null && v > 0);
    const yMin = Math.min(Infinity, ...edges);
    const yMax = Math.max(-Infinity, ...edges);
    const options: UplotPlan['options'] = {
      scales: {
        x: { time: false, distr: 3, log: 2 },
        // The range covers the bands as well as the lines, which is all uPlot would look at.
        y: spec.yLog
          ? { distr: 3, log: 10, range: (_u, min, max) => uPlot.rangeLog(Math.min(min, yMin), Math.max(max, yMax), 10, true) as uPlot.Range.MinMax }
          : { range: (_u, _min, max) => [0, Math.max(max, yMax) > 0 ? Math.max(max, yMax) * 1.1 : 1] },
      },
      axes: [
        {
          ...axis,
          label: spec.xLabel,
          // uPlot passes null for the log ticks it leaves out on a narrow chart.
          values: (_u, splits) => splits.map((v) => (v === null ? '' : spec.formatX ? spec.formatX(v) : String(Math.round(v)))),
        },
        { ...axis, label: spec.yLabel, size: yAxisSize, gap: Y_GAP, values: (_u, splits) => splits.map((v) => (v === null ? '' : spec.formatY(v))) },
      ],
      series: [
        { label: 'N' },
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: true,
          ...(s.dashed ? { dash: [6, 5] } : {}),
          points: { show: !s.noPoints, size: 7, fill: s.dashed ? 'transparent' : s.color, stroke: s.color },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : spec.formatY(v)),
        })),
      ],
      cursor: { drag: { x: false, y: false } },
      // A static legend names the lines; hover values would repeat the table.
      legend: { live: false },
      hooks: { drawAxes: [(u) => drawBands(u, spec)], draw: [(u) => drawMarkers(u, spec)] },
    };
    return { options, data: [spec.xs, ...spec.series.map((s) => s.values)] as uPlot.AlignedData };
  }

  private exportPng = (): void => {
    const canvas = this.plot.chart?.ctx.canvas;
    if (!canvas) return;
    composeChartPng(canvas, this.spec.title, this.spec.series, uPlot.pxRatio).toBlob((blob) => {
      if (blob) downloadBlob(`${chartFileStem(this.spec.title)}.png`, blob);
    }, 'image/png');
  };

  private exportSvg = (): void => {
    downloadText(`${chartFileStem(this.spec.title)}.svg`, chartSvg(this.spec), 'image/svg+xml');
  };
}

/** Each series' p20–p80 band, shaded under the lines (drawn before them), one polygon per run of x with both edges. */
function drawBands(u: uPlot, spec: ChartSpec): void {
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  ctx.globalAlpha = 0.15;
  for (const s of spec.series) {
    const band = s.band;
    if (!band) continue;
    ctx.fillStyle = s.color;
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) {
        ctx.beginPath();
        const pos = (i: number, v: number) => [u.valToPos(spec.xs[i]!, 'x', true), u.valToPos(v, 'y', true)] as const;
        run.forEach((i, k) => {
          const [x, y] = pos(i, band.lo[i]!);
          k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y);
        });
        // A single x gets a short bar, a band of zero width would not show.
        if (run.length === 1) ctx.lineTo(pos(run[0]!, band.lo[run[0]!]!)[0] + 3 * uPlot.pxRatio, pos(run[0]!, band.lo[run[0]!]!)[1]);
        for (const i of [...run].reverse()) ctx.lineTo(...pos(i, band.hi[i]!));
        if (run.length === 1) ctx.lineTo(pos(run[0]!, band.hi[run[0]!]!)[0] - 3 * uPlot.pxRatio, pos(run[0]!, band.hi[run[0]!]!)[1]);
        ctx.closePath();
        ctx.fill();
      }
      run = [];
    };
    spec.xs.forEach((_x, i) => {
      const lo = band.lo[i];
      const hi = band.hi[i];
      if (lo !== null && lo !== undefined && hi !== null && hi !== undefined && (!spec.yLog || lo > 0)) run.push(i);
      else flush();
    });
    flush();
  }
  ctx.restore();
}

/** Vertical dashed lines with a label, e.g. where a kernel stops fitting the device's buffer limit. */
function drawMarkers(u: uPlot, spec: ChartSpec): void {
  if (!spec.markers?.length) return;
  const ctx = u.ctx;
  const r = uPlot.pxRatio;
  ctx.save();
  ctx.font = `${11 * r}px sans-serif`;
  ctx.lineWidth = r;
  ctx.setLineDash([3 * r, 3 * r]);
  spec.markers.forEach((m, i) => {
    const x = u.valToPos(m.x, 'x', true);
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
    ctx.strokeStyle = m.color;
    ctx.fillStyle = m.color;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.fillText(m.label, x + 4 * r, u.bbox.top + (12 + 14 * i) * r);
  });
  ctx.restore();
}

customElements.define('uplot-chart', UplotChart);

declare global {
  interface HTMLElementTagNameMap {
    'uplot-chart': UplotChart;
  }
}
