import { LitElement, css, html, nothing } from 'lit';
import { tilesLabel } from '../../attention/common.js';
import type { ResultRecord } from '../../results/schema.js';
import { problemOf as problemOfRecord, recordShapeLabel } from '../../results/label.js';
import { formatRatio, matchBaseline, unmatchedBaseline } from '../../results/baseline.js';
import { formatBandwidth, formatError, formatFlops, formatMs } from '../state/format.js';
import { type ComparisonReference, ratioToReference } from '../state/cross-family.js';
import { AUTOTUNE_FINAL_TAG, PREVIOUS_TAG, sameShape, sortForDisplay } from '../state/results.js';
import { speedupVerdict } from '../state/speedup.js';
import { shared } from './styles.js';

/** What the status column says: "pass" only when the output matched the reference. */
export function statusText(r: ResultRecord): string {
  if (r.status === 'ok') return r.check ? 'pass' : 'ok (unchecked)';
  if (r.status === 'failed') return 'fail';
  return r.status;
}

function checkText(r: ResultRecord): string {
  if (!r.check) return '';
  return r.check.rows === 'all' ? 'all rows' : `${r.check.rows} rows sampled`;
}

function timingText(r: ResultRecord): string {
  if (!r.timing) return '—';
  const batch = r.timing.dispatchesPerSample > 1 ? ` ×${r.timing.dispatchesPerSample}` : '';
  return `${r.timing.method}${batch}`;
}

/**
 * The results, one row per measurement, with the baseline's time and the speedup beside each row
 * when a baseline is loaded, and the baseline's unmatched rows listed after.
 */
export class ResultsTable extends LitElement {
  static override properties = {
    results: { attribute: false },
    baseline: { attribute: false },
    previous: { attribute: false },
    reference: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      td {
        white-space: nowrap;
      }
      /* Thirteen columns with a baseline must fit a 1400 px window: tighter padding, headers that
         may wrap ("Baseline / ms"), and the timing method that may break before its batch count. */
      th,
      td {
        padding: 0.25rem 0.35rem;
      }
      thead th,
      thead th.num {
        white-space: normal;
        vertical-align: bottom;
      }
      td[data-col='timing'] {
        white-space: normal;
        min-width: 6rem;
      }
      /* Tiles wrap to two lines at most (the full list is the cell's title), so the baseline and
         speedup columns fit beside them at 1400 px instead of scrolling out of view. */
      td.tiles {
        white-space: normal;
        min-width: 7rem;
        max-width: 12rem;
      }
      td.tiles > span {
        display: -webkit-box;
        -webkit-box-orient: vertical;
        -webkit-line-clamp: 2;
        line-clamp: 2;
        overflow: hidden;
        overflow-wrap: anywhere;
      }
      tr.previous td {
        color: var(--muted);
        border-top: 1px dashed var(--border-strong);
      }
      .status-pass {
        color: var(--good);
        font-weight: 600;
      }
      .status-fail,
      .status-error {
        color: var(--bad);
        font-weight: 600;
      }
      .status-skipped {
        color: var(--warn);
        font-weight: 600;
      }
      tr.reason td {
        border-bottom: 1px solid var(--border);
        padding-top: 0;
        white-space: normal;
      }
      tr.has-reason td {
        border-bottom: none;
      }
      pre {
        margin: 0;
        white-space: pre-wrap;
        font-family: var(--mono);
        font-size: 0.9em;
        color: var(--bad);
        max-height: 14rem;
        overflow: auto;
      }
      .faster {
        color: var(--good);
      }
      .slower {
        color: var(--bad);
      }
      tbody.baseline-only td {
        color: var(--muted);
      }
      tbody.baseline-only th {
        text-align: left;
        padding-top: 0.8rem;
      }
      .sub {
        display: block;
        color: var(--muted);
        font-size: 0.85em;
      }
    `,
  ];

  declare results: ResultRecord[];
  declare baseline: ResultRecord[] | null;
  /** Rows of the configuration before the latest tile edit, shown under the row that replaced each. */
  declare previous: ResultRecord[];
  /** The cross-family comparison's reference kernel: a column of each row's time ÷ its time at the same length. */
  declare reference: ComparisonReference | null;

  constructor() {
    super();
    this.results = [];
    this.baseline = null;
    this.previous = [];
    this.reference = null;
  }

  override render() {
    const rows = sortForDisplay(this.results);
    const baseline = this.baseline;
    const extra = baseline ? sortForDisplay(unmatchedBaseline(this.results, baseline)) : [];
    const columns = (baseline ? 13 : 11) + (this.reference ? 1 : 0);
    if (rows.length === 0 && extra.length === 0) {
      return html`<p class="muted" data-empty>No results yet: choose a shape and press Run.</p>`;
    }
    return html`
      <div class="scroll">
        <table aria-label="Results">
          <thead>
            <tr>
              <th>Kernel</th>
              <th>Shape</th>
              <th>Tiles</th>
              <th>Status</th>
              <th class="num" title="Median time of one kernel run">Median ms</th>
              <th class="num" title="20th to 80th percentile of the samples">p20–p80 ms</th>
              <th class="num" title="Useful FLOPs (4·d per unmasked query–key pair) per second">FLOP/s</th>
              <th class="num" title="Modelled global-memory traffic per second">Bytes/s</th>
              <th class="num" title="Largest |GPU − float64 reference| over the checked rows, and which rows were checked">Max error</th>
              <th class="num" title="Asynchronous pipeline creation (shader compile); cached pipelines cost nothing">Compile ms</th>
              <th title="timestamp: GPU timestamps; timestamp-coarse: rounded timestamps, ×n dispatches per timestamp pair; wall: host clock">Timing</th>
              ${
                this.reference
                  ? html`<th class="num" data-col="ratio" title="This time ÷ the reference kernel's time at the same length (Compare across families); below 1× is faster">÷ ${this.reference.label}</th>`
                  : nothing
              }
              ${
                baseline
                  ? html`<th class="num" title="The baseline's median for the same kernel and shape (same tiles when it has them)">Baseline ms</th>
                    <th class="num" title="Baseline time ÷ this time: above 1× is faster than the baseline">Speedup</th>`
                  : nothing
              }
            </tr>
          </thead>
          <tbody>
            ${rows.map((r) => {
              const before =
                r.tag === 'page' ? this.previous.find((p) => p.family === r.family && p.kernel === r.kernel && sameShape(p.shape, r.shape)) : undefined;
              return html`${this.row(r, columns, baseline)}${before ? this.row(before, columns, baseline, false, r) : nothing}`;
            })}
          </tbody>
          ${
            extra.length > 0
              ? html`<tbody class="baseline-only">
                <tr><th colspan=${columns}>In the baseline only (${extra.length})</th></tr>
                ${extra.map((r) => this.row(r, columns, null, true))}
              </tbody>`
              : nothing
          }
        </table>
      </div>
    `;
  }

  private ratioCell(r: ResultRecord, reference: ComparisonReference) {
    const ratio = ratioToReference(r, reference);
    const verdict = ratio === null || ratio === 1 ? '' : ratio < 1 ? 'faster' : 'slower';
    return html`<td class="num ${verdict}" data-col="ratio" data-ratio=${ratio === null ? '' : String(ratio)}>${ratio === null ? '—' : formatRatio(ratio)}</td>`;
  }

  /** One row; `after` is the row that replaced a previous one (its speedup is shown against it). */
  private row(r: ResultRecord, columns: number, baseline: ResultRecord[] | null, fromBaseline = false, after?: ResultRecord) {
    const status = statusText(r);
    const match = baseline && !after ? matchBaseline(r, baseline) : null;
    const reason = r.status !== 'ok' ? r.reason : undefined;
    const source = fromBaseline ? 'baseline' : r.tag === AUTOTUNE_FINAL_TAG ? 'autotune' : r.tag === 'page' ? 'run' : (r.tag ?? '');
    const verdict = match?.speedup ? speedupVerdict(r, match.baseline) : 'neutral';
    const tiles = tilesLabel(r.tiles);
    return html`
      <tr
        class="${reason ? 'has-reason' : ''} ${r.tag === PREVIOUS_TAG ? 'previous' : ''}"
        data-kernel=${r.kernel}
        data-seq=${String(r.shape[problemOfRecord(r)?.axis ?? 'seqK'] ?? '')}
        data-status=${r.status}
        data-source=${source}
      >
        <td><strong>${r.kernel}</strong>${source !== 'run' ? html` <span class="badge">${source}</span>` : nothing}</td>
        <td>${recordShapeLabel(r)}</td>
        <td class="tiles mono" data-col="tiles" title=${tiles}><span>${tiles}</span></td>
        <td class="status-${status.split(' ')[0]}" data-col="status">${status}</td>
        <td class="num" data-col="median">${formatMs(r.medianMs)}${stagesLine(r)}</td>
        <td class="num">${r.p20Ms !== null && r.p80Ms !== null ? `${formatMs(r.p20Ms)}–${formatMs(r.p80Ms)}` : '—'}</td>
        <td class="num" data-col="flops">${formatFlops(r.tflops)}</td>
        <td class="num" data-col="bytes">${formatBandwidth(r.gbps)}</td>
        <td class="num" data-col="error">${r.check ? html`${formatError(r.check.maxAbsError)}<span class="sub">${checkText(r)}</span>` : '—'}</td>
        <td class="num">${r.compileMs === null ? '—' : r.pipelineCached ? 'cached' : r.compileMs.toFixed(0)}</td>
        <td class="mono" data-col="timing">${timingText(r)}</td>
        ${this.reference ? this.ratioCell(r, this.reference) : nothing}
        ${
          baseline
            ? html`<td class="num" data-col="baseline">${match ? formatMs(match.baseline.medianMs) : '—'}${
                match && !match.sameTiles ? html`<span class="sub" title=${`baseline tiles: ${tilesLabel(match.baseline.tiles)}`}>other tiles</span>` : nothing
              }</td>
              <td
                class="num ${verdict === 'neutral' ? '' : verdict}"
                data-col="speedup"
                data-verdict=${verdict}
                title=${verdict === 'neutral' && match?.speedup ? 'Within the p20–p80 spread of both rows: the same speed as far as this measurement can tell' : nothing}
              >
                ${match?.speedup ? formatRatio(match.speedup) : '—'}
              </td>`
            : nothing
        }
      </tr>
      ${
        reason
          ? html`<tr class="reason" data-reason-for=${r.kernel}>
            <td colspan=${columns}>${r.status === 'error' ? html`<pre>${reason}</pre>` : html`<span class="status-${status}">${reason}</span>`}</td>
          </tr>`
          : nothing
      }
    `;
  }
}

customElements.define('results-table', ResultsTable);

declare global {
  interface HTMLElementTagNameMap {
    'results-table': ResultsTable;
  }
}

/** A multi-pass kernel's stages under its median: each one's share of their sum, times in the title. */
function stagesLine(r: ResultRecord) {
  if (!r.stages || r.stages.length < 2) return nothing;
  const total = r.stages.reduce((sum, st) => sum + st.medianMs, 0);
  const shares = r.stages.map((st) => `${st.name} ${Math.round((100 * st.medianMs) / total)}%`).join(' · ');
  const times = r.stages.map((st) => `${st.name}: ${formatMs(st.medianMs)} ms alone`).join('\n');
  return html`<span class="sub" data-stages title=${times}>${shares}</span>`;
}
