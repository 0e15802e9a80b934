import { LitElement, html } from 'lit';
import uPlot from 'uplot';
import { figureStyles, shared } from './styles.js';
import { type AxisStyle, UplotHost, type UplotPlan, uplotStyles } from './uplot-host.js';

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
 * own chart rather than the results plots' one (both live in a UplotHost), because the markers are
 * drawn on the canvas in a draw hook (uPlot series share one x array, so a vertical line cannot be a series).
 */
export class CrossFamilyChart extends LitElement {
  static override properties = { spec: { attribute: false } };
  static override styles = [shared, figureStyles, uplotStyles(HEIGHT)];

  declare spec: CompareChartSpec;
  private readonly plot = new UplotHost(this, { height: HEIGHT, fallbackWidth: 640, plan: (style) => this.plan(style) });

  override render() {
    const spec = this.spec;
    const empty = spec.xs.length === 0 || spec.lines.length === 0;
    const name = `${spec.title}: ${spec.lines.map((l) => l.label).join(', ')}${spec.markers.length > 0 ? `; crossovers at N ${spec.markers.map((m) => Math.round(m.x)).join(', ')}` : ''}`;
    return html`<figure data-lines=${JSON.stringify(spec.lines.map((l) => l.label))} data-markers=${JSON.stringify(spec.markers.map((m) => m.x))}>
      <figcaption>${spec.title}</figcaption>
      ${empty ? html`<div class="empty">${spec.emptyText}</div>` : html`<div class="plot" role="img" aria-label=${name}></div>`}
    </figure>`;
  }

  // Rebuilt on each update (UplotHost): the lines (ticked kernels, stages) change between updates.
  private plan({ axis }: AxisStyle): UplotPlan {
    const spec = this.spec;
    const bands: uPlot.Band[] = [];
    spec.lines.forEach((l, i) => {
      if (l.fillBelow && i > 0) bands.push({ series: [i + 1, i], fill: l.fillBelow });
    });
    const options: UplotPlan['options'] = {
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
    return { options, data: [spec.xs, ...spec.lines.map((l) => l.values)] as uPlot.AlignedData };
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
