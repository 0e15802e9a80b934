import { LitElement, css, html, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { shared } from './styles.js';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Dashed: a baseline drawn under the live line of the same kernel. */
  dashed: boolean;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xs: number[];
  series: ChartSeries[];
  /** Log scale on y as well as x. */
  yLog: boolean;
  formatY: (value: number) => string;
  /** Labels of the x ticks (default: the rounded value). */
  formatX?: (value: number) => string;
  /** Shown in place of the chart when there is nothing to draw. */
  emptyText: string;
}

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
 * A uPlot line chart over sequence length (log base 2 on x). uPlot draws to a canvas and builds its
 * legend in the DOM; its stylesheet is adopted into this shadow root, where the page's CSS cannot reach.
 */
export class UplotChart extends LitElement {
  static override properties = { spec: { attribute: false } };
  static override styles = [
    shared,
    unsafeCSS(uplotCss),
    css`
      figure {
        margin: 0;
      }
      figcaption {
        font-weight: 600;
        font-size: 0.9rem;
        margin-bottom: 0.3rem;
      }
      .plot {
        min-height: ${HEIGHT}px;
      }
      .empty {
        display: grid;
        place-items: center;
        min-height: ${HEIGHT}px;
        color: var(--muted);
        border: 1px dashed var(--border);
        border-radius: 6px;
      }
      .u-legend {
        font-size: 0.8rem;
        color: var(--fg);
      }
    `,
  ];

  declare spec: ChartSpec;
  private chart: uPlot | undefined;
  private readonly resize = new ResizeObserver(() => {
    const width = this.plotWidth();
    if (this.chart && width > 0 && Math.abs(this.chart.width - width) > 1) this.chart.setSize({ width, height: HEIGHT });
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.chart?.destroy();
    this.chart = undefined;
  }

  override render() {
    const empty = this.spec.xs.length === 0;
    return html`<figure>
      <figcaption>${this.spec.title}</figcaption>
      ${
        empty
          ? html`<div class="empty">${this.spec.emptyText}</div>`
          : html`<div class="plot" role="img" aria-label=${`${this.spec.title}: ${this.spec.series.map((s) => s.label).join(', ')}`}></div>`
      }
    </figure>`;
  }

  protected override updated(): void {
    // Rebuilt rather than fed new data: the set of series (kernels, baseline) changes between updates.
    this.chart?.destroy();
    this.chart = undefined;
    const target = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (!target) return;
    const spec = this.spec;
    const style = getComputedStyle(this);
    const axisColor = style.getPropertyValue('--muted').trim() || '#666';
    const gridColor = style.getPropertyValue('--border').trim() || '#ddd';
    const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } };
    const options: uPlot.Options = {
      width: this.plotWidth() || 480,
      height: HEIGHT,
      scales: {
        x: { time: false, distr: 3, log: 2 },
        y: spec.yLog ? { distr: 3, log: 10 } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { ...axis, label: spec.xLabel, values: (_u, splits) => splits.map((v) => (spec.formatX ? spec.formatX(v) : String(Math.round(v)))) },
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
          points: { show: true, size: 7, fill: s.dashed ? 'transparent' : s.color, stroke: s.color },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : spec.formatY(v)),
        })),
      ],
      cursor: { drag: { x: false, y: false } },
      // A static legend names the lines; hover values would repeat the table.
      legend: { live: false },
    };
    this.chart = new uPlot(options, [spec.xs, ...spec.series.map((s) => s.values)] as uPlot.AlignedData, target);
  }

  private plotWidth(): number {
    return Math.floor(this.getBoundingClientRect().width);
  }
}

customElements.define('uplot-chart', UplotChart);

declare global {
  interface HTMLElementTagNameMap {
    'uplot-chart': UplotChart;
  }
}
