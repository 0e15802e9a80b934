import { LitElement, css, html, nothing } from 'lit';
import type { DeviceCaps } from '../../gpu/caps.js';
import type { PageConfig } from '../state/config.js';
import './families/block-map-view.js';
import './families/decode-memory-view.js';
import './families/linear-state-view.js';
import './families/visited-tiles-view.js';

/** The selected family's own view, the reason the family exists; nothing for a family without one. */
export class FamilyViews extends LitElement {
  static override properties = { config: { attribute: false }, caps: { attribute: false } };
  // No box of its own: the view's panel is one more item of the page's column.
  static override styles = css`
    :host {
      display: contents;
    }
  `;

  declare config: PageConfig;
  declare caps: DeviceCaps | null;

  override render() {
    switch (this.config.family) {
      case 'kvcache':
        return html`<block-map-view .config=${this.config}></block-map-view>`;
      case 'window':
      case 'topk':
        return html`<visited-tiles-view .config=${this.config} .caps=${this.caps}></visited-tiles-view>`;
      case 'linear':
        return html`<linear-state-view .config=${this.config}></linear-state-view>`;
      case 'decode':
        return html`<decode-memory-view .config=${this.config} .caps=${this.caps}></decode-memory-view>`;
      default:
        return nothing;
    }
  }
}

customElements.define('family-views', FamilyViews);

declare global {
  interface HTMLElementTagNameMap {
    'family-views': FamilyViews;
  }
}
