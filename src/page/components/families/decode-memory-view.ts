import { LitElement, html, nothing } from 'lit';
import { type DeviceCaps, defaultCaps } from '../../../gpu/caps.js';
import type { PageConfig } from '../../state/config.js';
import { BUFFER_LIMITS, type DecodeMemory, decodeMemory } from '../../state/families/decode-memory.js';
import { formatBytes, formatTokens } from '../../state/format.js';
import { shared } from '../styles.js';
import type { ChartSeries, ChartSpec } from '../uplot-chart.js';
import { Memo } from './memo.js';
import '../uplot-chart.js';

const COLORS = { f32: '#1c7ed6', f16: '#2b8a3e' } as const;

/**
 * decode: the KV cache one sequence holds against its context length, f32 and f16, and the length
 * at which one K buffer of the configured batch no longer fits the device's buffer limits: past it
 * the cache must be split over buffers (or paged) before a kernel can bind it.
 */
export class DecodeMemoryView extends LitElement {
  static override properties = { config: { attribute: false }, caps: { attribute: false } };
  static override styles = [shared];

  declare config: PageConfig;
  declare caps: DeviceCaps | null;
  private readonly memo = new Memo<{ model: DecodeMemory } | { message: string }>();

  override render() {
    const caps = this.caps ?? defaultCaps();
    const key = JSON.stringify([this.config.family, this.config.shape, this.config.seqs, caps.limits]);
    const result = this.memo.get(key, () => decodeMemory(this.config, caps));
    return html`<section class="panel" aria-label="KV memory vs context length">
      <h2>KV memory vs context length</h2>
      ${'message' in result ? html`<p class="muted" data-message>${result.message}</p>` : this.renderModel(result.model)}
    </section>`;
  }

  private renderModel(m: DecodeMemory) {
    const s = m.shape;
    const series: ChartSeries[] = m.curves.flatMap((c) => [
      { label: `${c.kvType} K+V per sequence`, values: c.bytes, color: COLORS[c.kvType], dashed: false },
      // One marker per limit the K buffer passes: the line's value at that length, nothing elsewhere.
      ...BUFFER_LIMITS.filter((l) => c.limitN[l] !== null).map((l) => ({
        label: `${c.kvType}: K buffer > ${l}`,
        values: m.ns.map((n, i) => (n === c.limitN[l] ? c.bytes[i]! : null)),
        color: l === 'maxBufferSize' ? '#c92a2a' : '#e67700',
        dashed: true,
      })),
    ]);
    const spec: ChartSpec = {
      title: 'KV cache bytes per sequence vs context length (log–log)',
      xLabel: 'context length',
      yLabel: 'bytes',
      xs: m.ns,
      series,
      yLog: true,
      formatY: formatBytes,
      formatX: formatTokens,
      emptyText: '',
    };
    const gqa = s.heads / s.kvHeads;
    return html`
      <uplot-chart .spec=${spec}></uplot-chart>
      <p class="small" data-per-token>
        KV bytes per token: ${m.curves.map((c, i) => html`${i > 0 ? ', ' : nothing}<strong data-kv-type=${c.kvType}>${formatBytes(c.bytesPerToken)}</strong> in ${c.kvType}`)}
        (K and V, ${s.kvHeads} KV heads × ${s.headDim}${gqa > 1 ? `; grouped-query attention shares each KV head among ${gqa} of the ${s.heads} query heads, a ${gqa}× smaller cache` : ''}).
      </p>
      <ul class="small" data-limits>
        ${m.curves.flatMap((c) =>
          BUFFER_LIMITS.map(
            (l) => html`<li data-kv-type=${c.kvType} data-limit=${l} data-n=${c.limitN[l] ?? ''}>
              ${c.kvType}: ${
                c.limitN[l] === null
                  ? html`one K buffer of batch ${s.batch} fits ${l} (${formatBytes(m.limits[l])}) up to the longest context the field allows (${formatTokens(m.maxN)})`
                  : html`one K buffer of batch ${s.batch} (${s.layout}) passes ${l} (${formatBytes(m.limits[l])}) at <strong>${c.limitN[l]}</strong> tokens`
              }
            </li>`,
          ),
        )}
      </ul>
      <p class="muted small">Limits are ${this.caps ? 'this device’s' : 'WebGPU’s defaults (no device yet)'}; past them the cache must be split over several buffers.</p>
    `;
  }
}

customElements.define('decode-memory-view', DecodeMemoryView);

declare global {
  interface HTMLElementTagNameMap {
    'decode-memory-view': DecodeMemoryView;
  }
}
