import { LitElement, css, html } from 'lit';
import { tilesLabel } from '../../attention/common.js';
import { recordShapeLabel } from '../../results/label.js';
import type { ResultRecord } from '../../results/schema.js';
import { shared } from './styles.js';

type Shader = { label: string; code: string };

/**
 * The WGSL a result ran: choose a row, see each of its pipelines as compiled for that shape and
 * those tiles (constants substituted, loops unrolled), with a Copy button each. Preparing the
 * kernel again is cheap: pipelines are cached per device by source.
 */
export class ShaderView extends LitElement {
  static override properties = {
    results: { attribute: false },
    load: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      .pick {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      select {
        max-width: 100%;
      }
      .head {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        margin-top: 0.6rem;
      }
      pre {
        max-height: 28rem;
        overflow: auto;
        background: var(--code-bg, #f6f8fa);
        border: 1px solid var(--border);
        border-radius: 6px;
        padding: 0.6rem;
        font-size: 0.78rem;
        margin: 0.3rem 0 0;
      }
    `,
  ];

  declare results: ResultRecord[];
  declare load: (record: ResultRecord) => Promise<readonly Shader[]>;
  private selected = -1;
  private shaders: readonly Shader[] = [];
  private status = '';
  private request = 0;

  constructor() {
    super();
    this.results = [];
    this.load = async () => [];
  }

  override render() {
    const rows = this.results;
    return html`
      <div class="pick">
        <label for="row">Result</label>
        <select id="row" aria-label="Result to show the shader of" @change=${this.onPick} ?disabled=${rows.length === 0}>
          <option value="-1" ?selected=${this.selected < 0}>${rows.length === 0 ? 'no results yet: press Run' : 'choose a result…'}</option>
          ${rows.map((r, i) => html`<option value=${String(i)} ?selected=${i === this.selected}>${r.kernel} · ${recordShapeLabel(r)} · ${tilesLabel(r.tiles) || 'defaults'}</option>`)}
        </select>
      </div>
      <p class="small muted" role="status" data-shader-status>${this.status}</p>
      ${this.shaders.map(
        (s) => html`<section aria-label=${`Shader ${s.label}`} data-shader=${s.label}>
          <div class="head">
            <strong class="mono small">${s.label}</strong>
            <button type="button" aria-label=${`Copy ${s.label}`} @click=${() => this.copy(s)}>Copy</button>
          </div>
          <pre><code>${s.code}</code></pre>
        </section>`,
      )}
    `;
  }

  private onPick = async (e: Event): Promise<void> => {
    const index = Number((e.target as HTMLSelectElement).value);
    this.selected = index;
    this.shaders = [];
    const record = this.results[index];
    const request = ++this.request;
    if (!record) {
      this.status = '';
      this.requestUpdate();
      return;
    }
    this.status = `Preparing ${record.kernel}…`;
    this.requestUpdate();
    try {
      const shaders = await this.load(record);
      if (request !== this.request) return;
      this.shaders = shaders;
      this.status = `${shaders.length} pipeline${shaders.length === 1 ? '' : 's'} of ${record.kernel} on ${recordShapeLabel(record)}.`;
    } catch (error) {
      if (request !== this.request) return;
      this.status = `Cannot show the shader: ${(error as Error).message}`;
    }
    this.requestUpdate();
  };

  private async copy(s: Shader): Promise<void> {
    try {
      await navigator.clipboard.writeText(s.code);
      this.status = `Copied ${s.label} (${s.code.length} characters).`;
    } catch (error) {
      this.status = `The clipboard refused the copy (${(error as Error).message}).`;
    }
    this.requestUpdate();
  }
}

customElements.define('shader-view', ShaderView);

declare global {
  interface HTMLElementTagNameMap {
    'shader-view': ShaderView;
  }
}
