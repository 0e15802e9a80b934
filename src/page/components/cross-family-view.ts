import { LitElement, css, html, nothing } from 'lit';
import type { ResultRecord } from '../../results/schema.js';
import { formatRatio } from '../../results/baseline.js';
import {
  type Candidate,
  type CompareSeries,
  type ComparisonReference,
  type SourceRows,
  compareCandidates,
  compareSeries,
  dimsKey,
  dimsLabel,
  referenceOf,
} from '../state/cross-family.js';
import { crossover, crossoverText, formatLength, ratioAt } from '../state/crossover.js';
import { formatMs } from '../state/format.js';
import { STAGE_FAMILIES, type StageStack, stackStages } from '../state/topk-stages.js';
import { type CompareView, DEFAULT_COMPARE_VIEW } from '../state/view.js';
import type { CompareChartSpec, CompareLine, CompareMarker } from './cross-family-chart.js';
import { shared } from './styles.js';
import './cross-family-chart.js';

const PALETTE = ['#1c7ed6', '#d9480f', '#2b8a3e', '#9c36b5', '#e67700', '#0b7285', '#c2255c', '#5c940d'];
/** Grey washes between the stacked stage lines (drawn in the pipeline's colour): the stages read as parts of one line. */
const STAGE_FILLS = ['rgba(120,120,140,0.22)', 'rgba(120,120,140,0.14)', 'rgba(120,120,140,0.08)'];
const STAGE_NAMES: Record<(typeof STAGE_FAMILIES)[number], string> = { 'topk-index': 'index', 'topk-select': 'select', 'topk-attend': 'attend' };

const SOURCE_TITLE = { results: 'This page’s results', imported: 'Imported' } as const;

/**
 * "Compare across families": tick kernels of any family (from the results and the imported file),
 * pick a reference, and read where each crosses it. The choices come in as `view` and go out as
 * `view-change` (the page keeps them in local storage beside the rows they name); every number
 * comes from the pure state modules (cross-family, crossover, topk-stages).
 */
export class CrossFamilyView extends LitElement {
  static override properties = {
    results: { attribute: false },
    imported: { attribute: false },
    importedName: { attribute: false },
    view: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      .pick {
        display: flex;
        flex-wrap: wrap;
        gap: 0.6rem;
        align-items: flex-start;
      }
      fieldset {
        border: 1px solid var(--border);
        border-radius: 6px;
        padding: 0.3rem 0.6rem 0.45rem;
        margin: 0;
      }
      fieldset fieldset {
        display: inline-block;
        vertical-align: top;
        margin: 0.2rem 0.3rem 0 0;
      }
      legend {
        font-weight: 600;
        font-size: 0.85rem;
      }
      label.kernel {
        display: block;
        white-space: nowrap;
      }
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 1rem;
        margin: 0.6rem 0;
        align-items: baseline;
      }
      ul.left-out {
        margin: 0.2rem 0 0.6rem;
        padding-left: 1.2rem;
      }
      table {
        margin-top: 0.4rem;
      }
      td.faster {
        color: var(--good);
      }
      td.slower {
        color: var(--bad);
      }
    `,
  ];

  declare results: ResultRecord[];
  declare imported: ResultRecord[] | null;
  declare importedName: string | null;
  /** Ticked kernels, reference and common shape; a key that names no row now (results cleared, another file) is kept and simply matches nothing. */
  declare view: CompareView;
  /** The reference as last rendered, and as last announced (JSON), so that only a change is announced. */
  private current: ComparisonReference | null = null;
  private sent = 'null';

  constructor() {
    super();
    this.results = [];
    this.imported = null;
    this.importedName = null;
    this.view = DEFAULT_COMPARE_VIEW;
  }

  private sources(): SourceRows[] {
    const out: SourceRows[] = [{ source: 'results', rows: this.results }];
    if (this.imported) out.push({ source: 'imported', rows: this.imported });
    return out;
  }

  override render() {
    const sources = this.sources();
    const candidates = compareCandidates(sources);
    if (candidates.length === 0) {
      return html`<p class="muted" data-empty>Run kernels of any family, or import a results file, to compare them here on one chart.</p>`;
    }
    const cmp = compareSeries(sources, new Set(this.view.ticked), this.view.dims ?? undefined);
    const ref = cmp.series.find((s) => s.key === this.view.reference) ?? cmp.series[0] ?? null;
    this.current = ref && cmp.common ? referenceOf(ref, cmp.common) : null;
    const colors = new Map(cmp.series.map((s, i) => [s.key, PALETTE[i % PALETTE.length]!]));
    const stacks = cmp.series
      .filter((s) => s.family === 'topk')
      .map((s) => ({
        series: s,
        stack: stackStages(
          s.points.map((p) => p.record),
          sources.find((x) => x.source === s.source)!.rows,
        ),
      }))
      .filter((x): x is { series: CompareSeries; stack: StageStack } => x.stack !== null);
    return html`
      <p class="muted small">
        Time against sequence length for kernels of any family, on one log–log chart: tick kernels from the results and the imported file. Rows
        are kept at one batch, head count and head dim (linear attention’s d<sub>k</sub> = d<sub>v</sub> is its head dim); with window, top-k or
        linear kernels ticked, only causal dense rows take part. A crossover is where two curves meet, interpolated as a straight line between
        measured lengths on the log–log chart.
      </p>
      <div class="pick">${this.renderPicker(candidates)}</div>
      ${cmp.series.length > 0 ? this.renderControls(cmp, ref) : nothing}
      ${this.renderLeftOut(cmp.leftOut)}
      <cross-family-chart .spec=${this.chartSpec(cmp.series, cmp.xs, ref, colors, stacks)}></cross-family-chart>
      ${ref && cmp.series.length > 1 ? this.renderCrossovers(cmp.series, ref) : nothing}
      ${ref ? this.renderRatios(cmp.series, cmp.xs, ref) : nothing}
      ${stacks.map((x) => this.renderStages(x.series, x.stack))}
    `;
  }

  private renderPicker(candidates: Candidate[]) {
    const bySource = (['results', 'imported'] as const).map((source) => ({ source, list: candidates.filter((c) => c.source === source) }));
    return bySource
      .filter((g) => g.list.length > 0)
      .map((g) => {
        const families = [...new Set(g.list.map((c) => c.family))];
        const title = g.source === 'imported' && this.importedName ? `${SOURCE_TITLE.imported}: ${this.importedName}` : SOURCE_TITLE[g.source];
        return html`<fieldset data-source=${g.source}>
          <legend>${title}</legend>
          ${families.map(
            (family) => html`<fieldset data-family=${family}>
              <legend>${family}</legend>
              ${g.list
                .filter((c) => c.family === family)
                .map(
                  (c) => html`<label class="kernel"
                    ><input
                      type="checkbox"
                      aria-label=${c.kernel}
                      .checked=${this.view.ticked.includes(c.key)}
                      ?disabled=${c.timed === 0}
                      @change=${(e: Event) => this.toggle(c.key, (e.target as HTMLInputElement).checked)}
                    />
                    ${c.kernel} <span class="muted small">(${c.timed})</span></label
                  >`,
                )}
            </fieldset>`,
          )}
        </fieldset>`;
      });
  }

  private renderControls(cmp: ReturnType<typeof compareSeries>, ref: CompareSeries | null) {
    const common = cmp.common!;
    return html`<div class="controls">
      <label
        >Reference kernel
        <select @change=${(e: Event) => this.setReference((e.target as HTMLSelectElement).value)}>
          ${cmp.series.map((s) => html`<option value=${s.key} ?selected=${s.key === ref?.key}>${s.label}</option>`)}
        </select></label
      >
      ${
        cmp.choices.length > 1
          ? html`<label
            >Common shape
            <select @change=${(e: Event) => this.setDims((e.target as HTMLSelectElement).value)}>
              ${cmp.choices.map((d) => html`<option value=${dimsKey(d)} ?selected=${dimsKey(d) === dimsKey(common)}>${dimsLabel(d)}</option>`)}
            </select></label
          >`
          : nothing
      }
      <span
        class="small"
        data-common
        data-batch=${String(common.batch ?? '')}
        data-heads=${String(common.heads ?? '')}
        data-dim=${common.headDim ?? ''}
        >Compared at ${common.batch === null ? '' : `batch ${common.batch}, `}${common.heads === null ? '' : `heads ${common.heads}, `}head dim
        ${common.headDim ?? 'any'}.</span
      >
    </div>`;
  }

  private renderLeftOut(leftOut: ReturnType<typeof compareSeries>['leftOut']) {
    if (leftOut.length === 0) return nothing;
    return html`<p class="small">Left out:</p>
      <ul class="left-out small">
        ${leftOut.map(
          (l) =>
            html`<li data-left-out=${l.kernel} data-source=${l.source} data-count=${l.count}>
              <strong>${l.kernel}</strong>${l.source === 'imported' ? ' (imported)' : ''}: ${l.count} row${l.count === 1 ? '' : 's'}, ${l.reason}
            </li>`,
        )}
      </ul>`;
  }

  private chartSpec(
    series: CompareSeries[],
    xs: number[],
    ref: CompareSeries | null,
    colors: Map<string, string>,
    stacks: { series: CompareSeries; stack: StageStack }[],
  ): CompareChartSpec {
    const at = (points: { n: number; v: number }[]) => xs.map((x) => points.find((p) => p.n === x)?.v ?? null);
    const lines: CompareLine[] = series.map((s) => ({
      label: s.label,
      values: at(s.points.map((p) => ({ n: p.n, v: p.ms }))),
      color: colors.get(s.key)!,
      ...(s.source === 'imported' && series.some((o) => o.source === 'results') ? { dash: [6, 5] } : {}),
    }));
    for (const { series: s, stack } of stacks) {
      if (stack.points.length === 0) continue;
      const names = ['index', 'index+select', 'index+select+attend'];
      names.forEach((name, i) =>
        lines.push({
          label: `${s.label} stages: ${name}`,
          values: at(stack.points.map((p) => ({ n: p.n, v: p.cumulative[i]! }))),
          color: colors.get(s.key)!,
          dash: [2, 3],
          ...(i > 0 ? { fillBelow: STAGE_FILLS[i]! } : {}),
        }),
      );
    }
    const markers: CompareMarker[] = [];
    if (ref) {
      for (const s of series) {
        if (s.key === ref.key) continue;
        for (const c of crossover(ref.points, s.points).crossings) markers.push({ x: c.n, label: formatLength(c.n), color: colors.get(s.key)! });
      }
    }
    return {
      title: 'Time per run vs sequence length, across families (log–log)',
      xs,
      lines,
      markers,
      emptyText: 'Tick kernels above to draw them.',
    };
  }

  private renderCrossovers(series: CompareSeries[], ref: CompareSeries) {
    return html`<h3>Crossovers with ${ref.label}</h3>
      <table aria-label="Crossovers">
        <thead>
          <tr><th>Kernel</th><th class="num">Common lengths</th><th>Crossover</th></tr>
        </thead>
        <tbody>
          ${series
            .filter((s) => s.key !== ref.key)
            .map((s) => {
              const c = crossover(ref.points, s.points);
              return html`<tr data-series=${s.label} data-kind=${c.kind} data-n=${c.crossings.map((x) => String(x.n)).join(',')}>
                <td><strong>${s.label}</strong></td>
                <td class="num">${c.common.length}</td>
                <td>${crossoverText(c, ref.label, s.label)}</td>
              </tr>`;
            })}
        </tbody>
      </table>`;
  }

  private renderRatios(series: CompareSeries[], xs: number[], ref: CompareSeries) {
    return html`<h3>Time ÷ ${ref.label} at the same length</h3>
      <div class="scroll">
        <table aria-label="Time ÷ reference">
          <thead>
            <tr>
              <th class="num">N</th>
              ${series.map((s) => html`<th class="num">${s.label}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${xs.map(
              (n) => html`<tr data-n=${n}>
                <td class="num">${n}</td>
                ${series.map((s) => {
                  const p = s.points.find((q) => q.n === n);
                  if (!p) return html`<td class="num muted">—</td>`;
                  const ratio = ratioAt(ref.points, n, p.ms);
                  const verdict = ratio === null || s.key === ref.key ? '' : ratio < 1 ? 'faster' : ratio > 1 ? 'slower' : '';
                  return html`<td class="num ${verdict}" data-series=${s.label} data-ms=${p.ms} data-ratio=${ratio === null ? '' : String(ratio)}>
                    ${formatMs(p.ms)} ms${ratio === null ? nothing : html` · ${formatRatio(ratio)}`}
                  </td>`;
                })}
              </tr>`,
            )}
          </tbody>
        </table>
      </div>`;
  }

  private renderStages(s: CompareSeries, stack: StageStack) {
    return html`<h3>${s.label}: the stages stacked</h3>
      ${
        stack.points.length > 0
          ? html`<table aria-label="Top-k stages">
            <thead>
              <tr>
                <th class="num">N</th>
                ${STAGE_FAMILIES.map((f) => html`<th class="num">${STAGE_NAMES[f]} ms (share)</th>`)}
                <th class="num">Pipeline ms</th>
                <th class="num" title="The three stages timed alone, summed, over the pipeline's time">Stages ÷ pipeline</th>
              </tr>
            </thead>
            <tbody>
              ${stack.points.map(
                (p) => html`<tr
                  data-n=${p.n}
                  data-share-index=${p.shares['topk-index']}
                  data-share-select=${p.shares['topk-select']}
                  data-share-attend=${p.shares['topk-attend']}
                >
                  <td class="num">${p.n}</td>
                  ${STAGE_FAMILIES.map((f) => html`<td class="num">${formatMs(p.ms[f])} (${(p.shares[f] * 100).toFixed(1)}%)</td>`)}
                  <td class="num">${formatMs(p.pipelineMs)}</td>
                  <td class="num">${formatRatio(p.sumOverPipeline)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
          : nothing
      }
      ${
        stack.problems.length > 0
          ? html`<p class="small" data-stage-problem>
            ${stack.points.length > 0 ? 'Not stacked at some lengths' : 'Not stacked: the stage rows do not line up with the pipeline’s shape'}:
            ${stack.problems.join('. ')}.
          </p>`
          : nothing
      }`;
  }

  protected override updated(): void {
    // The results table shows a ratio column against the same reference: tell the page when it changes.
    const signature = JSON.stringify(this.current);
    if (signature === this.sent) return;
    this.sent = signature;
    this.dispatchEvent(new CustomEvent<ComparisonReference | null>('reference-change', { detail: this.current, bubbles: true, composed: true }));
  }

  private toggle(key: string, on: boolean): void {
    const rest = this.view.ticked.filter((k) => k !== key);
    this.choose({ ticked: on ? [...rest, key] : rest });
  }

  private setReference(key: string): void {
    this.choose({ reference: key });
  }

  private setDims(key: string): void {
    this.choose({ dims: key });
  }

  /** Shows the new choice at once and tells the page, which keeps it (`view-change`). */
  private choose(change: Partial<CompareView>): void {
    this.view = { ...this.view, ...change };
    this.dispatchEvent(new CustomEvent<CompareView>('view-change', { detail: this.view }));
  }
}

customElements.define('cross-family-view', CrossFamilyView);

declare global {
  interface HTMLElementTagNameMap {
    'cross-family-view': CrossFamilyView;
  }
}
