import { LitElement, html } from 'lit';
import type { PageConfig } from '../../state/config.js';
import { type StateVsCache, stateVsCache } from '../../state/families/linear-state.js';
import { formatBytes, formatTokens } from '../../state/format.js';
import { shared } from '../styles.js';
import type { ChartSpec } from '../uplot-chart.js';
import { Memo } from './memo.js';
import '../uplot-chart.js';

/**
 * linear: the recurrent state a sequence carries (fixed in N) against the KV cache softmax
 * attention of the same heads and dims would keep (growing with N), log–log, the crossover marked.
 */
export class LinearStateView extends LitElement {
  static override properties = { config: { attribute: false } };
  static override styles = [shared];

  declare config: PageConfig;
  private readonly memo = new Memo<{ model: StateVsCache } | { message: string }>();

  override render() {
    const key = JSON.stringify([this.config.family, this.config.shape, Math.min(...this.config.seqs)]);
    const result = this.memo.get(key, () => stateVsCache(this.config));
    return html`<section class="panel" aria-label="State vs KV cache">
      <h2>State vs KV cache</h2>
      ${'message' in result ? html`<p class="muted" data-message>${result.message}</p>` : this.renderModel(result.model)}
    </section>`;
  }

  private renderModel(m: StateVsCache) {
    const { shape: s } = m;
    const xs = m.ns;
    const spec: ChartSpec = {
      title: 'Bytes per sequence vs sequence length (log–log)',
      xLabel: 'tokens N',
      yLabel: 'bytes',
      xs,
      series: [
        { label: `recurrent state (${s.heads}·${s.dk}·${s.dv}·4 B)`, values: xs.map(() => m.stateBytes), color: '#2b8a3e', dashed: false },
        { label: `KV cache (${s.heads}·N·(${s.dk}+${s.dv})·${s.storage === 'f16' ? 2 : 4} B)`, values: m.kvBytes, color: '#d9480f', dashed: false },
        { label: 'crossover', values: xs.map((n) => (n === m.crossover ? m.stateBytes : null)), color: '#1c7ed6', dashed: true },
      ],
      yLog: true,
      formatY: formatBytes,
      formatX: formatTokens,
      emptyText: '',
    };
    const last = m.ns[m.ns.length - 1]!;
    const ratio = m.kvBytes[m.kvBytes.length - 1]! / m.stateBytes;
    return html`
      <uplot-chart .spec=${spec}></uplot-chart>
      <p class="small" data-crossover=${m.crossover}>
        One sequence's state is <strong>${formatBytes(m.stateBytes)}</strong> (${s.heads} heads of ${s.dk}×${s.dv} f32) at any length; the KV cache
        of softmax attention over the same heads grows by ${formatBytes(m.kvBytesPerToken)} per token (${s.storage}). They are equal at
        <strong>N ≈ ${formatTokens(Math.round(m.crossover * 10) / 10)}</strong> tokens; past it the state is smaller, and at ${formatTokens(last)} tokens the cache is
        ${ratio.toFixed(0)}× the state.
      </p>
    `;
  }
}

customElements.define('linear-state-view', LinearStateView);

declare global {
  interface HTMLElementTagNameMap {
    'linear-state-view': LinearStateView;
  }
}
