import { LitElement, css, html, nothing } from 'lit';
import { tilesLabel } from '../../attention/common.js';
import type { TuningSummary } from '../app/controller.js';
import { formatMs } from '../state/format.js';
import { shared } from './styles.js';

/** The last Autotune per kernel: what won, how much of the space was searched, and the checked finalists. */
export class AutotunePanel extends LitElement {
  static override properties = { tunings: { attribute: false } };
  static override styles = [
    shared,
    css`
      .tuning + .tuning {
        margin-top: 0.6rem;
      }
      ol {
        margin: 0.2rem 0;
        padding-left: 1.4rem;
      }
    `,
  ];

  declare tunings: TuningSummary[];

  override render() {
    return this.tunings.map(({ shape, tuning }) => {
      const best = tuning.bestRecord;
      return html`<div class="tuning" data-kernel=${tuning.kernel}>
        <p>
          <strong>${tuning.kernel}</strong> on ${shape}:
          ${
            best
              ? html`best <code data-best>${tilesLabel(best.tiles)}</code> at ${formatMs(best.medianMs)} ms, now pinned in its tile controls.`
              : html`<span class="problem">no configuration passed the reference check.</span>`
          }
        </p>
        <p class="muted small">
          Measured ${tuning.measured} of ${tuning.runnable} configurations that fit this device in ${(tuning.elapsedMs / 1000).toFixed(1)} s;
          the fastest ${tuning.finalists.length} were re-timed and checked:
        </p>
        <ol class="small">
          ${tuning.finalists.map(
            (f) => html`<li><code>${tilesLabel(f.tiles)}</code> ${formatMs(f.medianMs)} ms,
              ${f.check?.ok ? 'passes' : html`<span class="problem">${f.status}${f.reason ? `: ${f.reason}` : ''}</span>`}</li>`,
          )}
        </ol>
        ${tuning.finalists.length === 0 ? html`<p class="small">No configuration could be timed.</p>` : nothing}
      </div>`;
    });
  }
}

customElements.define('autotune-panel', AutotunePanel);

declare global {
  interface HTMLElementTagNameMap {
    'autotune-panel': AutotunePanel;
  }
}
