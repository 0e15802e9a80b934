import { LitElement, css, html, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { shared } from './styles.js';

export interface CompareLine {
  label: string;
  /** One value per x of the spec (null: not measured there). */
  values: (number | null)[];
  color: string;
  dash?: number[];
  /** Fill down to the line below it (the stacked stages), as a CSS colour. */
  fillBelow?: string;
}

/** A vertical dashed line at a crossover length. */
export interface CompareMarker {
  x: number;
  label: string;
  color: string;
}

export interface CompareChartSpec {
  title: string;
  xs: number[];
  lines: CompareLine[];
  markers: CompareMarker[];
  emptyText: string;
}

const HEIGHT = 320;

const sig = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toPrecision(3) : v.toPrecision(2));

/**
 * The cross-family chart: log–log time against length, with the crossovers as dashed verticals. Its
 * own uPlot wrapper rather than the results plots' one, because the markers are drawn on the canvas
 * in a draw hook (uPlot series share one x array, so a vertical line cannot be a series).
 */
export class CrossFamilyChart extends LitElement {
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
        min-height: 120px;
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

  declare spec: CompareChartSpec;
  private chart: uPlot | undefined;
  private readonly resize = new ResizeObserver(() => {
    const width = Math.floor(this.getBoundingClientRect().width);
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
    const spec = this.spec;
    const empty = spec.xs.length === 0 || spec.lines.length === 0;
    const name = `${spec.title}: ${spec.lines.map((l) => l.label).join(', ')}${spec.markers.length > 0 ? `; crossovers at N ${spec.markers.map((m) => Math.round(m.x)).join(', ')}` : ''}`;
    return html`<figure data-lines=${JSON.stringify(spec.lines.map((l) => l.label))} data-markers=${JSON.stringify(spec.markers.map((m) => m.x))}>
      <figcaption>${spec.title}</figcaption>
      ${empty ? html`<div class="empty">${spec.emptyText}</div>` : html`<div class="plot" role="img" aria-label=${name}></div>`}
    </figure>`;
  }

  protected override updated(): void {
    // Rebuilt on each update: the lines (ticked kernels, stages) change between updates.
    this.chart?.destroy();
    this.chart = undefined;
    const target = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (!target) return;
    const spec = this.spec;
    const style = getComputedStyle(this);
    const axisColor = style.getPropertyValue('--muted').trim() || '#666';
    const gridColor = style.getPropertyValue('--border').trim() || '#ddd';
    const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } };
    const bands: uPlot.Band[] = [];
    spec.lines.forEach((l, i) => {
      if (l.fillBelow && i > 0) bands.push({ series: [i + 1, i], fill: l.fillBelow });
    });
    const options: uPlot.Options = {
      width: Math.floor(this.getBoundingClientRect().width) || 640,
      height: HEIGHT,
      scales: { x: { time: false, distr: 3, log: 2 }, y: { distr: 3, log: 10 } },
      axes: [
        { ...axis, label: 'sequence length N', values: (_u, splits) => splits.map((v) => String(Math.round(v))) },
        { ...axis, label: 'median ms', size: 70, values: (_u, splits) => splits.map((v) => (v === null ? '' : sig(v))) },
      ],
      series: [
        { label: 'N' },
        ...spec.lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: 2,
          spanGaps: true,
          ...(l.dash ? { dash: l.dash } : {}),
          points: { show: true, size: 6, fill: l.dash ? 'transparent' : l.color, stroke: l.color },
        })),
      ],
      bands,
      hooks: { draw: [(u) => this.drawMarkers(u)] },
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
    };
    this.chart = new uPlot(options, [spec.xs, ...spec.lines.map((l) => l.values)] as uPlot.AlignedData, target);
  }

  private drawMarkers(u: uPlot): void {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.lineWidth = uPlot.pxRatio;
    ctx.setLineDash([5 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
    ctx.font = `${11 * uPlot.pxRatio}px sans-serif`;
    for (const m of this.spec.markers) {
      const x = u.valToPos(m.x, 'x', true);
      if (!Number.isFinite(x) || x < bbox.left || x > bbox.left + bbox.width) continue;
      ctx.strokeStyle = m.color;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.fillStyle = m.color;
      ctx.fillText(m.label, x + 3 * uPlot.pxRatio, bbox.top + 12 * uPlot.pxRatio);
    }
    ctx.restore();
  }
}

customElements.define('cross-family-chart', CrossFamilyChart);

declare global {
  interface HTMLElementTagNameMap {
    'cross-family-chart': CrossFamilyChart;
  }
}
