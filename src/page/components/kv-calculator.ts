import { LitElement, css, html, nothing } from 'lit';
import type { PageConfig } from '../state/config.js';
import { formatBytes } from '../state/format.js';
import { type ElementType, KV_LENGTHS, KV_PRESETS, applyPreset, bytesPerToken, kvBytes, parseContext } from '../state/kv-memory.js';
import { colorOf } from './results-plots.js';
import { shared } from './styles.js';
import type { ChartSpec } from './uplot-chart.js';
import './uplot-chart.js';

const COLORS = ['#d9480f', '#1c7ed6', '#2b8a3e', '#9c36b5'];

/**
 * KV-cache (or state) bytes per sequence of published models against the context length, next to
 * this device's largest buffer: why long contexts need GQA, MLA, windows or linear attention.
 * “Use this shape” fills the matching family's shape controls from a preset.
 */
export class KvCalculator extends LitElement {
  static override properties = {
    maxBufferSize: { attribute: false },
    config: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: center;
        margin-bottom: 0.5rem;
      }
      .over {
        color: var(--bad);
        font-weight: 600;
      }
      .sources {
        margin: 0.5rem 0 0;
        padding-left: 1.2rem;
      }
      /* Six columns are wider than a phone: the table scrolls inside its own box rather than the page
         sideways (the shared .scroll would also shrink its font, which the page keeps at 1400 px). */
      .table-scroll {
        overflow-x: auto;
      }
      /* Source links are long URLs: they break instead of widening the page. */
      .sources a {
        overflow-wrap: anywhere;
      }
    `,
  ];

  declare maxBufferSize: number | null;
  declare config: PageConfig;
  private type: ElementType = 'f16';
  private context = 131072;
  private contextText = '131072';
  private contextError: string | null = null;
  private presetId = KV_PRESETS[0]!.id;

  constructor() {
    super();
    this.maxBufferSize = null;
  }

  override render() {
    const max = this.maxBufferSize;
    const chart: ChartSpec = {
      title: `Bytes per sequence vs context length (${this.type}, log–log)`,
      xLabel: 'context tokens',
      yLabel: 'bytes',
      xs: [...KV_LENGTHS],
      series: [
        ...KV_PRESETS.map((p, i) => ({
          label: p.name,
          values: KV_LENGTHS.map((n) => kvBytes(p, n, this.type)),
          color: COLORS[i % COLORS.length]!,
          dashed: false,
        })),
        ...(max ? [{ label: `maxBufferSize ${formatBytes(max)}`, values: KV_LENGTHS.map(() => max), color: colorOf('__device__'), dashed: true }] : []),
      ],
      yLog: true,
      formatY: (v) => formatBytes(v),
      emptyText: '',
    };
    return html`
      <div class="controls">
        <label>Context tokens <input type="number" min="1" max="1048576" .value=${this.contextText} aria-label="Context tokens" @change=${this.onContext} /></label>
        <label>Element type
          <select aria-label="Element type" @change=${(e: Event) => {
            this.type = (e.target as HTMLSelectElement).value as ElementType;
            this.requestUpdate();
          }}>
            <option value="f16" ?selected=${this.type === 'f16'}>f16 (2 bytes)</option>
            <option value="f32" ?selected=${this.type === 'f32'}>f32 (4 bytes)</option>
          </select>
        </label>
        <label>Preset
          <select aria-label="Preset" @change=${(e: Event) => {
            this.presetId = (e.target as HTMLSelectElement).value;
            this.requestUpdate();
          }}>
            ${KV_PRESETS.map((p) => html`<option value=${p.id} ?selected=${p.id === this.presetId}>${p.name}</option>`)}
          </select>
        </label>
        <button type="button" @click=${this.apply} title="Fill the shape controls of the matching family with this model's heads and dimensions">Use this shape</button>
      </div>
      ${this.contextError ? html`<p class="over small" role="alert">${this.contextError}</p>` : nothing}
      <div class="table-scroll"><table aria-label="KV memory">
        <thead>
          <tr><th>model</th><th>cached per token</th><th class="num">per token</th><th class="num">fixed state</th><th class="num">at ${this.context.toLocaleString('en-US')} tokens</th><th>fits one buffer?</th></tr>
        </thead>
        <tbody>
          ${KV_PRESETS.map((p) => {
            const total = kvBytes(p, this.context, this.type);
            return html`<tr data-preset=${p.id} data-bytes=${String(total)} data-per-token=${String(bytesPerToken(p, this.type))}>
              <td><a href=${p.source} target="_blank" rel="noopener">${p.name}</a></td>
              <td class="small">${p.summary}</td>
              <td class="num">${formatBytes(bytesPerToken(p, this.type))}${p.window ? html`<span class="muted small"> (last ${p.window})</span>` : nothing}</td>
              <td class="num">${p.state ? formatBytes(p.state * (this.type === 'f16' ? 2 : 4)) : '—'}</td>
              <td class="num" title=${`${total} bytes`}>${formatBytes(total)}</td>
              <td class=${max !== null && total > max ? 'over' : ''}>${max === null ? '—' : total > max ? `no (${(total / max).toFixed(1)}× maxBufferSize)` : 'yes'}</td>
            </tr>`;
          })}
        </tbody>
      </table></div>
      <uplot-chart .spec=${chart}></uplot-chart>
      <p class="small muted">
        One sequence, every layer; batch multiplies it. Sources (published configurations):
      </p>
      <ul class="sources small">
        ${KV_PRESETS.map((p) => html`<li>${p.name}: <a href=${p.source} target="_blank" rel="noopener">${p.source}</a></li>`)}
      </ul>
    `;
  }

  private onContext = (e: Event): void => {
    const text = (e.target as HTMLInputElement).value;
    this.contextText = text;
    const parsed = parseContext(text);
    if ('error' in parsed) this.contextError = parsed.error;
    else {
      this.contextError = null;
      this.context = parsed.value;
    }
    this.requestUpdate();
  };

  private apply = (): void => {
    const preset = KV_PRESETS.find((p) => p.id === this.presetId)!;
    this.dispatchEvent(new CustomEvent<PageConfig>('apply-preset', { detail: applyPreset(this.config, preset), bubbles: true, composed: true }));
  };
}

customElements.define('kv-calculator', KvCalculator);

declare global {
  interface HTMLElementTagNameMap {
    'kv-calculator': KvCalculator;
  }
}
