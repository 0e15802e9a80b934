import { LitElement, css, html, nothing } from 'lit';
import { styleMap } from 'lit/directives/style-map.js';
import { type DeviceCaps, defaultCaps } from '../../../gpu/caps.js';
import type { PageConfig } from '../../state/config.js';
import { type TileGrid, type VisitedTilesResult, visitedTilesOf } from '../../state/families/visited-tiles.js';
import { figureStyles, shared } from '../styles.js';
import { Memo } from './memo.js';

const percent = (f: number) => `${(100 * f).toFixed(f < 0.1 ? 1 : 0)}%`;

/**
 * window and topk: which (query tile, key tile) blocks of the score matrix a pass touches, beside
 * causal dense attention's lower triangle. The window kernel's tile walk is the kernel's own
 * (keyTiles); topk's tiles are those holding a key the reference selection picks.
 */
export class VisitedTilesView extends LitElement {
  static override properties = { config: { attribute: false }, caps: { attribute: false } };
  static override styles = [
    shared,
    figureStyles,
    css`
      .grids {
        display: flex;
        flex-wrap: wrap;
        gap: 1.5rem;
        align-items: start;
      }
      .cells {
        display: grid;
        gap: 1px;
        background: var(--border);
        border: 1px solid var(--border);
        width: max-content;
      }
      .cell {
        width: var(--cell);
        height: var(--cell);
        background: var(--panel);
      }
      .cell.on {
        background: var(--accent);
      }
    `,
  ];

  declare config: PageConfig;
  declare caps: DeviceCaps | null;
  private readonly memo = new Memo<VisitedTilesResult>();

  override render() {
    const caps = this.caps ?? defaultCaps();
    const key = JSON.stringify([
      this.config.family,
      this.config.shape,
      Math.min(...this.config.seqs),
      this.config.kernels[0],
      this.config.tiles,
      caps.limits,
      caps.features,
    ]);
    const result = this.memo.get(key, () => visitedTilesOf(this.config, caps));
    return html`<section class="panel" aria-label="Visited tiles">
      <h2>Visited tiles</h2>
      ${'message' in result ? html`<p class="muted" data-message>${result.message}</p>` : this.renderTiles(result.tiles)}
    </section>`;
  }

  private renderTiles(t: Extract<VisitedTilesResult, { tiles: unknown }>['tiles']) {
    const [family, dense] = t.grids;
    const cols = family.visited[0]?.length ?? 0;
    // Cells shrink as the grid grows so that a 512-token grid of small tiles still fits a column.
    const cell = Math.max(4, Math.min(16, Math.floor(320 / Math.max(1, cols, family.visited.length))));
    const draw = (g: TileGrid, name: string) => html`<figure data-grid=${name} data-fraction=${g.fraction}>
      <figcaption>${g.label} <span class="muted small">(${percent(g.fraction)} of tiles)</span></figcaption>
      <div
        class="cells"
        role="img"
        aria-label=${`${g.label}: ${percent(g.fraction)} of ${g.visited.length}×${cols} tiles visited`}
        style=${styleMap({ gridTemplateColumns: `repeat(${cols}, var(--cell))`, '--cell': `${cell}px` })}
      >
        ${g.visited.map((row, r) => row.map((on, c) => html`<div class="cell ${on ? 'on' : ''}" data-on=${on ? '1' : '0'} title=${`query tile ${r}, key tile ${c}`}></div>`))}
      </div>
    </figure>`;
    const what =
      this.config.family === 'window'
        ? 'the window kernel visits'
        : 'hold at least one selected key (float64 reference selection of the seeded inputs, batch 0)';
    return html`
      <p class="small">
        N = ${t.n}${t.seqQ !== t.n ? html` keys, ${t.seqQ} queries` : nothing}, ${t.br}×${t.bc} ${t.tileSource}: rows are query tiles, columns key tiles.
        Coloured: tiles that ${what}, against causal dense attention, which visits every tile up to the diagonal.
      </p>
      <div class="grids">${draw(family, this.config.family)} ${draw(dense, 'dense')}</div>
      <p class="small" data-summary>
        ${family.label}: <strong>${percent(family.fraction)}</strong> of tiles visited (causal dense: ${percent(dense.fraction)}), for
        <strong data-pairs>${percent(t.pairFraction)}</strong> of causal dense's (query, key) pairs.
        ${
          this.config.family === 'window'
            ? 'The band stays as wide as the window when N grows, so tiles and work grow as N·window, not N²: skipping whole tiles is the saving.'
            : 'Each query reads only its top-k keys, but the 32 queries of a tile pick keys all over the causal triangle, so nearly every tile holds one: skipping tiles would save little. The attend kernel instead gathers each query’s selected K and V rows.'
        }
      </p>
      ${t.note ? html`<p class="muted small">Note: ${t.note}.</p>` : nothing}
    `;
  }
}

customElements.define('visited-tiles-view', VisitedTilesView);

declare global {
  interface HTMLElementTagNameMap {
    'visited-tiles-view': VisitedTilesView;
  }
}
