import { LitElement, css, html, nothing } from 'lit';
import type uPlot from 'uplot';
import type { Ceilings } from '../../results/roofline.js';
import type { ResultRecord } from '../../results/schema.js';
import { downloadText, timestampedName } from '../app/download.js';
import { formatNumber } from '../state/format.js';
import { type RooflineData, rooflineData, rooflineSvg } from '../state/roofline.js';
import { colorOf } from './results-plots.js';
import { shared } from './styles.js';
import { type AxisStyle, UplotHost, type UplotPlan, uplotStyles } from './uplot-host.js';

const HEIGHT = 320;

/**
 * The roofline: each timed result at its arithmetic intensity (x, FLOPs per modelled byte) and
 * achieved TFLOP/s (y), log–log, under the measured bandwidth slope and compute roofs. Naive
 * attention sits far left (it moves S and P), flash far right of it on the same shape: the chart
 * shows which wall each run is against and how close it came. A table beside it lists the points.
 */
export class RooflineChart extends LitElement {
  static override properties = {
    results: { attribute: false },
    ceilings: { attribute: false },
    ceilingsSource: { attribute: false },
  };
  static override styles = [
    shared,
    uplotStyles(HEIGHT),
    css`
      .actions {
        display: flex;
        gap: 0.35rem;
        margin: 0.4rem 0;
      }
      details {
        margin-top: 0.4rem;
      }
      /* The points table scrolls inside its own box on a narrow screen, not the page sideways. */
      .table-scroll {
        overflow-x: auto;
      }
    `,
  ];

  declare results: ResultRecord[];
  declare ceilings: Ceilings | null;
  /** Where the ceilings came from (this device, or an imported file), for the caption. */
  declare ceilingsSource: string | null;
  private data: RooflineData | undefined;
  private readonly plot = new UplotHost(this, { height: HEIGHT, fallbackWidth: 480, plan: (style) => this.plan(style) });

  constructor() {
    super();
    this.results = [];
    this.ceilings = null;
    this.ceilingsSource = null;
  }

  override render() {
    const data = (this.data = rooflineData(this.results, this.ceilings));
    const empty = data.points.length === 0;
    return html`<figure style="margin:0">
      <figcaption class="small">
        ${
          this.ceilings
            ? html`Roofs measured ${this.ceilingsSource ?? ''}: ${data.roofs.map((r) => r.label).join(', ')}.${
                this.ceilings.mmaRejected
                  ? html` <span data-mma-rejected>No matrix-unit roof: ${this.ceilings.mmaRejected} Kernels on the matrix units may sit above the FMA roofs, and f16 rows get no roofline fraction.</span>`
                  : nothing
              }`
            : html`<span class="muted">No ceilings yet: press “Measure ceilings” in the device panel (or import a results file that has them) to draw the roofs.</span>`
        }
      </figcaption>
      ${
        empty
          ? html`<div class="empty">The roofline shows timed results: press Run.</div>`
          : html`<div class="plot" role="img" aria-label=${`Roofline: ${data.points.length} results of ${data.kernels.join(', ')}${this.ceilings ? ' under the measured roofs' : ''}`}></div>`
      }
      <div class="actions">
        <button type="button" ?disabled=${empty} @click=${this.exportPng}>Export PNG</button>
        <button type="button" ?disabled=${empty} @click=${this.exportSvg}>Export SVG</button>
      </div>
      ${
        empty
          ? nothing
          : html`<details>
            <summary class="small">Points (${data.points.length})</summary>
            <div class="table-scroll"><table aria-label="Roofline points">
              <thead><tr><th>kernel</th><th>at</th><th class="num">FLOP/byte</th><th class="num">TFLOP/s</th><th class="num">of roof</th></tr></thead>
              <tbody>
                ${data.points.map(
                  (p) => html`<tr data-kernel=${p.kernel} data-x=${String(p.x)} data-y=${String(p.y)} data-label=${p.label}>
                    <td>${p.kernel}</td><td>${p.label}</td><td class="num">${formatNumber(p.x)}</td><td class="num">${formatNumber(p.y)}</td>
                    <td class="num">${p.fraction === null ? '—' : `${(p.fraction * 100).toFixed(1)}%`}</td>
                  </tr>`,
                )}
              </tbody>
            </table></div>
          </details>`
      }
    </figure>`;
  }

  // Rebuilt on each update (UplotHost).
  private plan({ axis, color: axisColor }: AxisStyle): UplotPlan | undefined {
    const data = this.data;
    if (!data || data.points.length === 0) return undefined;
    const fmt = (v: number) => (v >= 1 ? String(+v.toPrecision(3)) : v.toPrecision(2));
    const options: UplotPlan['options'] = {
      scales: { x: { time: false, distr: 3, log: 10 }, y: { distr: 3, log: 10 } },
      axes: [
        { ...axis, label: 'arithmetic intensity (FLOP/byte)', values: (_u, splits) => splits.map((v) => (v === null ? '' : fmt(v))) },
        { ...axis, label: 'TFLOP/s', size: 64, values: (_u, splits) => splits.map((v) => (v === null ? '' : fmt(v))) },
      ],
      series: [
        { label: 'FLOP/byte' },
        ...data.roofs.map((r) => ({ label: r.label, stroke: '#666', width: 1.5, dash: [6, 4], spanGaps: true, points: { show: false } })),
        ...data.kernels.map((k) => ({
          label: k,
          stroke: colorOf(k),
          // Points only: results are not a line.
          paths: () => null,
          points: { show: true, size: 9, fill: colorOf(k), stroke: colorOf(k) },
        })),
      ],
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      hooks: {
        draw: [
          (u) => {
            // Each point labelled by its swept field's value (e.g. the sequence length).
            const ctx = u.ctx;
            ctx.save();
            ctx.font = `${11 * devicePixelRatio}px sans-serif`;
            ctx.fillStyle = axisColor;
            for (const p of data.points) {
              ctx.fillText(p.label, u.valToPos(p.x, 'x', true) + 6 * devicePixelRatio, u.valToPos(p.y, 'y', true) - 6 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
    return { options, data: [data.xs, ...data.roofs.map((r) => r.values), ...data.kernelValues] as uPlot.AlignedData };
  }

  private exportPng = (): void => {
    const canvas = this.plot.chart?.ctx.canvas;
    if (!canvas) return;
    canvas.toBlob((blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = timestampedName('roofline', 'png');
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    }, 'image/png');
  };

  private exportSvg = (): void => {
    if (!this.data) return;
    downloadText(timestampedName('roofline', 'svg'), rooflineSvg(this.data, colorOf), 'image/svg+xml');
  };
}

customElements.define('roofline-chart', RooflineChart);

declare global {
  interface HTMLElementTagNameMap {
    'roofline-chart': RooflineChart;
  }
}
