import { LitElement, css, html, nothing } from 'lit';
import { styleMap } from 'lit/directives/style-map.js';
import { type DeviceCaps, defaultCaps } from '../../gpu/caps.js';
import { DEFAULT_REFERENCE_BUDGET } from '../../harness/fixture.js';
import { tensorBytes } from '../../gpu/tensors.js';
import { type PageConfig, axisField, problemOf, shapeAt, shapeProblem } from '../state/config.js';
import type { ChartSpec } from '../state/chart-spec.js';
import { formatBytes, formatTokens } from '../state/format.js';
import { memoryRows } from '../state/memory.js';
import { type MemoryPlot, memoryPlot } from '../state/memory-plot.js';
import { Memo } from './families/memo.js';
import { colorOf } from './results-plots.js';
import { shared } from './styles.js';
import './uplot-chart.js';

/**
 * GPU memory each selected kernel allocates at each configured length, from the kernels' own
 * descriptors, and how many rows the CPU reference checks there.
 */
export class MemoryPanel extends LitElement {
  static override properties = {
    config: { attribute: false },
    caps: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      .bar {
        height: 4px;
        border-radius: 2px;
        background: var(--accent);
        margin-top: 2px;
        min-width: 1px;
      }
      .over {
        color: var(--bad);
        font-weight: 600;
      }
    `,
  ];

  declare config: PageConfig;
  declare caps: DeviceCaps | null;
  private readonly plotMemo = new Memo<MemoryPlot | null>();

  override render() {
    if (shapeProblem(this.config)) return html`<p class="muted">Fix the shape to see memory.</p>`;
    const caps = this.caps ?? defaultCaps();
    const rows = memoryRows(this.config, caps);
    const problem = problemOf(this.config);
    const axis = axisField(problem);
    const tensorNames = problem
      .tensors(shapeAt(this.config, this.config.seqs[0]!))
      .map((t) => t.name.toUpperCase())
      .join(', ');
    const kernels = this.config.kernels;
    const max = Math.max(1, ...rows.map((r) => r.totalBytes));
    const bindingLimit = caps.limits.maxStorageBufferBindingSize;
    return html`
      ${this.renderPlot(caps)}
      <div class="scroll">
        <table aria-label="Memory per kernel">
          <thead>
            <tr>
              <th class="num">${axis.label}</th>
              <th class="num" title="The problem's tensors: every kernel has these">${tensorNames}</th>
              ${kernels.map((k) => html`<th class="num">${k} extra</th><th>${k} total</th>`)}
              <th title="What is compared with the float64 CPU reference (in a Web Worker)">Reference check</th>
            </tr>
          </thead>
          <tbody>
            ${this.config.seqs.map((seq) => {
              const shape = shapeAt(this.config, seq);
              const tensors = problem.tensors(shape).reduce((sum, t) => sum + tensorBytes(t), 0);
              return html`<tr data-seq=${seq}>
                <td class="num">${seq}</td>
                <td class="num">${formatBytes(tensors)}</td>
                ${kernels.map((k) => {
                  const row = rows.find((r) => r.seq === seq && r.kernel === k);
                  if (!row) return html`<td></td><td></td>`;
                  const extra = row.scratch.reduce((s, b) => s + b.bytes, 0);
                  const over = row.scratch.some((b) => b.bytes > bindingLimit);
                  return html`
                    <td class="num ${over ? 'over' : ''}" data-kernel=${k} title=${row.scratch.map((b) => `${b.name}: ${formatBytes(b.bytes)}`).join('\n') || 'nothing beyond Q, K, V, O'}>
                      ${extra === 0 ? '0' : row.scratch.map((b) => `${b.name.split(' ')[0]} ${formatBytes(b.bytes)}`).join(' + ')}
                      ${over ? html`<div class="small">over maxStorageBufferBindingSize</div>` : nothing}
                    </td>
                    <td style="min-width: 7rem">
                      ${formatBytes(row.totalBytes)}
                      <div class="bar" style=${styleMap({ width: `${(100 * row.totalBytes) / max}%`, background: extra > 0 ? 'var(--bad)' : 'var(--accent)' })}></div>
                    </td>
                  `;
                })}
                <td class="small">${problem.referenceCoverage?.(shape, DEFAULT_REFERENCE_BUDGET) ?? 'every output'}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      <p class="muted small">
        Naive writes S = QKᵀ and P = softmax(S) to global memory: B·H·N² floats each, so its memory grows with N². Flash keeps its
        tiles in workgroup memory and allocates nothing beyond Q, K, V and O: O(N). When the full reference would cost more than
        64 M multiply-adds, the check compares every head's first and last row plus evenly strided rows up to that budget, the
        same rows on every run.
      </p>
    `;
  }

  /** Total allocation per kernel against N, past the configured lengths, with the buffer limit and where each kernel stops fitting it. */
  private renderPlot(caps: DeviceCaps) {
    const key = JSON.stringify([this.config.family, this.config.kernels, this.config.shape, this.config.seqs, this.config.tiles, caps.limits]);
    const plot = this.plotMemo.get(key, () => memoryPlot(this.config, caps));
    if (!plot) return nothing;
    const limitText = `${plot.limit.name} ${formatBytes(plot.limit.bytes)}`;
    const spec: ChartSpec = {
      title: 'Memory per kernel vs N (log–log)',
      xLabel: axisField(problemOf(this.config)).label.toLowerCase().replace(/s$/, ''),
      yLabel: 'bytes allocated',
      xs: plot.ns,
      series: [
        ...plot.curves.map((c) => ({ label: `${c.kernel} total`, values: c.totals, color: colorOf(c.kernel), dashed: false })),
        { label: limitText, values: plot.ns.map(() => plot.limit.bytes), color: '#868e96', dashed: true, noPoints: true },
      ],
      yLog: true,
      formatY: formatBytes,
      formatX: formatTokens,
      emptyText: '',
      markers: plot.curves.flatMap((c) => (c.stopsAt ? [{ x: c.stopsAt.n, label: `${c.kernel} stops fitting`, color: colorOf(c.kernel) }] : [])),
    };
    return html`
      <div data-memory-plot data-limit=${plot.limit.bytes}>
        <uplot-chart .spec=${spec}></uplot-chart>
        <ul class="small" data-fits>
          ${plot.curves.map((c) =>
            c.stopsAt
              ? html`<li data-kernel=${c.kernel} data-stops-at=${c.stopsAt.n}>
                  <strong>${c.kernel} stops fitting at N = ${c.stopsAt.n}</strong>: its ${c.stopsAt.buffer} buffer (${formatBytes(c.stopsAt.bytes)}) passes ${limitText}.
                </li>`
              : html`<li data-kernel=${c.kernel} data-stops-at="">
                  ${c.kernel}: every buffer fits ${limitText} up to the longest N the field allows (${formatTokens(plot.maxN)}).
                </li>`,
          )}
        </ul>
        <p class="muted small">
          Totals are the family's tensors plus each kernel's scratch (the KV cache for decode, the carried state for linear). A kernel stops
          fitting when one of its buffers passes the limit, since each buffer must be bound whole; the total of several buffers can pass it
          earlier. Limits are ${this.caps ? 'this device’s' : 'WebGPU’s defaults (no device yet)'}.
        </p>
      </div>
    `;
  }
}

customElements.define('memory-panel', MemoryPanel);

declare global {
  interface HTMLElementTagNameMap {
    'memory-panel': MemoryPanel;
  }
}
