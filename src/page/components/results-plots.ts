import { LitElement, css, html, nothing } from 'lit';
import { KERNELS } from '../../attention/registry.js';
import type { ResultRecord } from '../../results/schema.js';
import type { ChartSeries } from '../state/chart-spec.js';
import { type PageConfig, axisField, problemOf } from '../state/config.js';
import { unitScale } from '../state/format.js';
import { type XChoice, xChoices } from '../state/plot-axes.js';
import { axisChoice, loglogSlope, plotData, type PlotData } from '../state/plot-data.js';
import { METRICS, type Metric, type MetricKey, metricBand, metricOf, metricValue } from '../state/plot-metric.js';
import { DEFAULT_PLOT_VIEW, type PlotView } from '../state/view.js';
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

/** One chart line per plotted series in a metric, with its p20–p80 band where the rows have percentiles; `scale` turns the record's unit into the axis's. */
function metricSeries(data: PlotData, key: MetricKey, scale: number): ChartSeries[] {
  return data.series.map((s) => {
    const bands = s.rows.map((r) => metricBand(r, key));
    return {
      label: s.label,
      values: s.rows.map((r) => {
        const v = metricValue(r, key);
        return v === null ? null : v * scale;
      }),
      color: colorOf(s.kernel),
      dashed: s.baseline || s.previous,
      ...(bands.some((b) => b !== null) ? { band: { lo: bands.map((b) => (b ? b[0] * scale : null)), hi: bands.map((b) => (b ? b[1] * scale : null)) } } : {}),
    };
  });
}

/** The y unit of a metric over the plotted values: a rate takes the prefix its largest value needs (SwiftShader's 0.00008 TFLOP/s reads as 80 MFLOP/s). */
function metricUnit(data: PlotData, metric: Metric): { label: string; scale: number } {
  if (!metric.rate) return { label: 'median ms', scale: 1 };
  const peak = Math.max(0, ...data.series.flatMap((s) => s.rows.map((r) => metricValue(r, metric.key) ?? 0)));
  const unit = unitScale(peak * metric.rate.perSecond);
  return { label: `${unit.prefix}${metric.rate.unit}`, scale: metric.rate.perSecond / unit.factor };
}

/**
 * Time (or throughput, or bandwidth) against the swept field or another shape field that varies
 * among the results, for the configured shape, one line per kernel (the baseline dashed beside
 * it) with its p20–p80 band. Time is log–log: a kernel whose cost grows as N² climbs two decades
 * per decade, so the gap between naive and flash reads directly off the slopes.
 */
export class ResultsPlots extends LitElement {
  static override properties = {
    results: { attribute: false },
    baseline: { attribute: false },
    previous: { attribute: false },
    config: { attribute: false },
    view: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.8rem;
        margin-bottom: 0.5rem;
      }
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
  /**
   * The chosen x field and metric (the page keeps them in the URL). The x field is a preference:
   * the swept field is shown while the results do not let the chosen one vary.
   */
  declare view: PlotView;

  constructor() {
    super();
    this.previous = [];
    this.view = DEFAULT_PLOT_VIEW;
  }

  /** Shows the new choice at once and tells the page, which keeps it (`view-change`). */
  private choose(change: Partial<PlotView>): void {
    this.view = { ...this.view, ...change };
    this.dispatchEvent(new CustomEvent<PlotView>('view-change', { detail: this.view }));
  }

  override render() {
    const problem = problemOf(this.config);
    const axis = axisField(problem);
    const all = [...this.results, ...(this.baseline ?? []), ...this.previous];
    const choices = xChoices(all, this.config);
    const x: XChoice = choices.find((c) => c.key === this.view.x) ?? axisChoice(this.config);
    const data = plotData(this.results, this.baseline ?? [], this.config, this.previous, x);
    const xName = x.label;
    const metric = metricOf(this.view.metric ?? 'ms');
    const unit = metricUnit(data, metric);
    const emptyText = 'The plots show Run results for the configured shape: press Run.';
    const main: ChartSpec = {
      title: metric.key === 'ms' ? `Time per run vs ${xName} (log–log)` : `${unit.label} vs ${xName} (p20–p80 band)`,
      xLabel: xName,
      yLabel: unit.label,
      xs: data.xs,
      series: metricSeries(data, metric.key, unit.scale),
      yLog: metric.yLog,
      formatY: metric.yLog ? sig : (v) => (v === 0 ? '0' : sig(v)),
      emptyText,
    };
    const flops = metricUnit(data, metricOf('tflops'));
    const throughput: ChartSpec = {
      title: `Throughput vs ${xName}`,
      xLabel: xName,
      yLabel: flops.label,
      xs: data.xs,
      series: metricSeries(data, 'tflops', flops.scale),
      yLog: false,
      formatY: (v) => (v === 0 ? '0' : sig(v)),
      emptyText,
    };
    const onAxis = x.held === null;
    const slopes = data.series
      .filter((s) => !s.baseline)
      .map((s) => ({ label: s.label, slope: loglogSlope(data.xs, s.ms) }))
      .filter((s) => s.slope !== null);
    const heldText = onAxis ? '' : ` at ${axis.label.toLowerCase().replace(/s$/, '')} ${x.held}, ${xName} as each row has it`;
    return html`
      <div class="controls small">
        <label
          >X axis
          <select aria-label="X axis" @change=${(e: Event) => this.choose({ x: (e.target as HTMLSelectElement).value })}>
            ${choices.map((c) => html`<option value=${c.key} ?selected=${c.key === x.key}>${c.label}${c.held === null ? '' : ` (at ${c.held})`}</option>`)}
          </select>
        </label>
        <label
          >Metric
          <select aria-label="Metric" @change=${(e: Event) => this.choose({ metric: metricOf((e.target as HTMLSelectElement).value).key })}>
            ${METRICS.map((m) => html`<option value=${m.key} ?selected=${m.key === metric.key}>${m.label}</option>`)}
          </select>
        </label>
      </div>
      <p class="muted small" data-x-field=${x.key} data-metric=${metric.key} data-held=${x.held ?? ''}>
        ${problem.title}, ${Object.entries(this.config.shape)
          .filter(([k]) => onAxis || k !== x.key)
          .map(([k, v]) => `${problem.fields.find((f) => f.key === k)?.label ?? k} ${String(v)}`)
          .join(', ')}${heldText};
        the latest run of each kernel at each ${xName} value; shaded: p20–p80 of the timed samples${this.baseline ? '; dashed: the baseline’s fastest row' : ''}${this.previous.length > 0 ? '; dashed “previous”: the tiles before the latest edit' : ''}.
      </p>
      <div class="charts">
        <uplot-chart .spec=${main} data-chart="metric"></uplot-chart>
        <uplot-chart .spec=${throughput} data-chart="throughput"></uplot-chart>
      </div>
      ${
        slopes.length > 0
          ? html`<p class="slopes small" data-slopes>
            Fitted log–log slope (time ∝ ${onAxis ? 'N' : `(${xName})`}<sup>k</sup>):
            ${slopes.map((s, i) => html`${i > 0 ? ', ' : nothing}<strong>${s.label}</strong> k = ${s.slope!.toFixed(2)}`)}.
            ${onAxis ? html`<span class="muted">Both kernels do N² work; fixed launch and dispatch costs pull k below 2 at small N.</span>` : nothing}
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
