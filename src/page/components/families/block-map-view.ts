import { LitElement, css, html, nothing } from 'lit';
import { type BlockMapResult, type BlockState, blockMapOf, countStates } from '../../state/families/block-map.js';
import type { PageConfig } from '../../state/config.js';
import { formatBytes } from '../../state/format.js';
import { figureStyles, shared } from '../styles.js';
import { Memo } from './memo.js';

const STATE_LABEL: Record<BlockState, string> = { full: 'full', partial: 'partly full', free: 'free', unused: 'never used' };

/**
 * kvcache: every pool block of the seeded cache, after the policy's eviction and after compaction.
 * Scattered eviction leaves a survivor in nearly every block, so almost none frees; compaction
 * slides the survivors forward and whole blocks go back.
 */
export class BlockMapView extends LitElement {
  static override properties = { config: { attribute: false } };
  static override styles = [
    shared,
    figureStyles,
    css`
      .maps {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
        gap: 1rem;
      }
      .cells {
        display: flex;
        flex-wrap: wrap;
        gap: 1px;
      }
      .cell {
        width: 9px;
        height: 9px;
        border-radius: 1px;
      }
      .full {
        background: var(--accent);
      }
      .partial {
        background: #f59f00;
      }
      .free {
        background: transparent;
        outline: 1px solid var(--border-strong);
        outline-offset: -1px;
      }
      .unused {
        background: var(--border);
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 0.8rem;
        margin: 0.5rem 0;
      }
      .legend span {
        display: inline-flex;
        align-items: center;
        gap: 0.3rem;
      }
      dl {
        display: grid;
        grid-template-columns: max-content auto;
        gap: 0.15rem 0.8rem;
        margin: 0.5rem 0;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  declare config: PageConfig;
  private readonly memo = new Memo<BlockMapResult>();

  override render() {
    const key = JSON.stringify([this.config.family, this.config.shape, Math.min(...this.config.seqs)]);
    const result = this.memo.get(key, () => blockMapOf(this.config));
    return html`<section class="panel" aria-label="Block map">
      <h2>Block map</h2>
      ${'message' in result ? html`<p class="muted" data-message>${result.message}</p>` : this.renderMap(result.map)}
    </section>`;
  }

  private renderMap(map: Extract<BlockMapResult, { map: unknown }>['map']) {
    const { shape, accounting: a } = map;
    const before = countStates(map.before);
    const after = countStates(map.after);
    const policy =
      shape.policy === 'window' ? `window policy (${shape.sinks} sinks + ${shape.window} recent)` : `${shape.policy} policy, ${shape.evict}% evicted`;
    const grid = (title: string, name: string, states: readonly BlockState[], counts: Record<BlockState, number>) => {
      const summary = (['full', 'partial', 'free', 'unused'] as const)
        .filter((s) => counts[s] > 0)
        .map((s) => `${counts[s]} ${STATE_LABEL[s]}`)
        .join(', ');
      return html`<figure data-map=${name}>
        <figcaption>${title} <span class="muted small">(${summary})</span></figcaption>
        <div class="cells" role="img" aria-label=${`${title}: ${summary}`}>
          ${states.map((s, i) => html`<div class="cell ${s}" data-state=${s} title=${`block ${i}: ${STATE_LABEL[s]}`}></div>`)}
        </div>
      </figure>`;
    };
    return html`
      <p class="small">
        The seeded cache at ${shape.seqK} tokens: ${map.before.length} pool blocks of ${shape.blockSize} tokens, batch ${shape.batch}, ${policy}.
        One cell per pool block, in pool order (the block table scatters a sequence's blocks over the pool).
      </p>
      <div class="legend small">
        ${(['full', 'partial', 'free', 'unused'] as const).map((s) => html`<span><span class="cell ${s}"></span>${STATE_LABEL[s]}</span>`)}
      </div>
      <div class="maps">
        ${grid('Before compaction (after eviction)', 'before', map.before, before)} ${grid('After compaction', 'after', map.after, after)}
      </div>
      <dl class="small" aria-label="Block accounting">
        <dt>Evicted tokens</dt>
        <dd data-field="evicted">${a.evictedTokens}</dd>
        <dt>Blocks freed before compaction</dt>
        <dd data-field="freed-before">${a.blocksFreedBeforeCompaction}</dd>
        <dt>Blocks freed after compaction</dt>
        <dd data-field="freed-after">${a.blocksFreedAfter}</dd>
        <dt>Bytes moved (K and V, read once and written once)</dt>
        <dd data-field="bytes-moved">${formatBytes(a.bytesMoved)}</dd>
      </dl>
      <p class="small" data-point>
        Eviction alone frees a block only when every token in it goes: here ${a.blocksFreedBeforeCompaction} of ${map.before.length - before.unused}.
        Compaction moves ${formatBytes(a.bytesMoved)} so that the survivors fill whole blocks, and frees ${a.blocksFreedAfter}.
      </p>
      ${
        map.narrowed
          ? html`<p class="muted small">
            The full pools are too large to generate here; table and mask come from the same cache one value wide (same lengths, policy and
            seed), so the map is the same kind of draw, not the benchmark's exact one. Bytes moved are for the configured width.
          </p>`
          : nothing
      }
    `;
  }
}

customElements.define('block-map-view', BlockMapView);

declare global {
  interface HTMLElementTagNameMap {
    'block-map-view': BlockMapView;
  }
}
