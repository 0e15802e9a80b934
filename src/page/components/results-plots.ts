import { LitElement, css, html, nothing } from 'lit';
import { KERNELS } from '../../attention/registry.js';
import type { ResultRecord } from '../../results/schema.js';
import { type PageConfig, axisField, problemOf } from '../state/config.js';
import { unitScale } from '../state/format.js';
import { loglogSlope, plotData } from '../state/plot-data.js';
import { shared } from './styles.js';
import type { ChartSpec } from './uplot-chart.js';
import './uplot-chart.js';

/** One colour per kernel, by registry position, so a kernel keeps its colour as kernels are toggled. */
const PALETTE = ['#d9480f', '#1c7ed6', '#2b8a3e', '#9c36b5', '#e67700', '#0b7285'];

export function colorOf(kernel: string): string {
  const i = KERNELS.findIndex((k) => k.name === kernel);
  return PALETTE[(i < 0 ? KERNELS.length : i) % PALETTE.length]!;
}

const sig = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toPrecision(3) : v.toPrecision(2));

/**
 * Time and throughput against sequence length for the configured shape, one line per kernel (the
 * baseline dashed beside it). Time is log–log: a kernel whose cost grows as N² climbs two decades
 * per decade, so the gap between naive and flash reads directly off the slopes.
 */
export class ResultsPlots extends LitElement {
  static override properties = {
    results: { attribute: false },
    baseline: { attribute: false },
    previous: { attribute: false },
    config: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(340px, 1fr));
        gap: 1rem;
      }
      .slopes {
        margin-top: 0.4rem;
      }
    `,
  ];

  declare results: ResultRecord[];
  declare baseline: ResultRecord[] | null;
  declare previous: ResultRecord[];
  declare config: PageConfig;

  constructor() {
    super();
    this.previous = [];
  }

  override render() {
    const data = plotData(this.results, this.baseline ?? [], this.config, this.previous);
    // The swept field's label, e.g. "sequence length" (the dense family's "Sequence lengths").
    const xName = axisField(problemOf(this.config)).label.toLowerCase().replace(/s$/, '');
    const series = (pick: 'ms' | 'tflops', scale = 1) =>
      data.series.map((s) => ({
        label: s.label,
        values: s[pick].map((v) => (v === null ? null : v * scale)),
        color: colorOf(s.kernel),
        dashed: s.baseline || s.previous,
      }));
    // Throughput in the unit its largest value needs: SwiftShader's 0.00008 TFLOP/s reads as 80 MFLOP/s.
    const peak = Math.max(0, ...data.series.flatMap((s) => s.tflops.filter((v): v is number => v !== null)));
    const unit = unitScale(peak * 1e12);
    const emptyText = 'The plots show Run results for the configured shape: press Run.';
    const time: ChartSpec = {
      title: `Time per run vs ${xName} (log–log)`,
      xLabel: xName,
      yLabel: 'median ms',
      xs: data.xs,
      series: series('ms'),
      yLog: true,
      formatY: sig,
      emptyText,
    };
    const throughput: ChartSpec = {
      title: `Throughput vs ${xName}`,
      xLabel: xName,
      yLabel: `${unit.prefix}FLOP/s`,
      xs: data.xs,
      series: series('tflops', 1e12 / unit.factor),
      yLog: false,
      formatY: (v) => (v === 0 ? '0' : sig(v)),
      emptyText,
    };
    const slopes = data.series
      .filter((s) => !s.baseline)
      .map((s) => ({ label: s.label, slope: loglogSlope(data.xs, s.ms) }))
      .filter((s) => s.slope !== null);
    const problem = problemOf(this.config);
    const axis = axisField(problem);
    return html`
      <p class="muted small">
        ${problem.title}, ${Object.entries(this.config.shape)
          .map(([k, v]) => `${problem.fields.find((f) => f.key === k)?.label ?? k} ${String(v)}`)
          .join(', ')};
        the latest run of each kernel at each ${axis.label.toLowerCase()} value${this.baseline ? '; dashed: the baseline’s fastest row' : ''}${this.previous.length > 0 ? '; dashed “previous”: the tiles before the latest edit' : ''}.
      </p>
      <div class="charts">
        <uplot-chart .spec=${time}></uplot-chart>
        <uplot-chart .spec=${throughput}></uplot-chart>
      </div>
      ${
        slopes.length > 0
          ? html`<p class="slopes small" data-slopes>
            Fitted log–log slope (time ∝ N<sup>k</sup>):
            ${slopes.map((s, i) => html`${i > 0 ? ', ' : nothing}<strong>${s.label}</strong> k = ${s.slope!.toFixed(2)}`)}.
            <span class="muted">Both kernels do N² work; fixed launch and dispatch costs pull k below 2 at small N.</span>
          </p>`
          : nothing
      }
    `;
  }
}

customElements.define('results-plots', ResultsPlots);

declare global {
  interface HTMLElementTagNameMap {
    'results-plots': ResultsPlots;
  }
}
