import { LitElement, css, html, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import { type DeviceCaps, defaultCaps } from '../../gpu/caps.js';
import type { KernelDescriptor, Tiles } from '../../attention/types.js';
import { type PageConfig, axisField, effectiveTiles, kernelProblems, problemOf, referenceShape, tileValueProblem } from '../state/config.js';
import { shared } from './styles.js';

export interface TilesChangeDetail {
  kernel: string;
  /** The kernel's full tile set now, or null to go back to the device default. */
  tiles: Tiles | null;
}

/**
 * One kernel's tile parameters, generated from its descriptor's tunables. Values the device
 * cannot take (with the other tiles as they are) are marked in the lists; the problems of the
 * current choice are listed below with the limit and the numbers, as the harness words them.
 */
export class TileEditor extends LitElement {
  static override properties = {
    kernel: { attribute: false },
    config: { attribute: false },
    caps: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      fieldset {
        border: 1px solid var(--border);
        border-radius: 6px;
        margin: 0;
        padding: 0.4rem 0.6rem 0.5rem;
      }
      legend {
        font-weight: 600;
        padding: 0 0.3rem;
      }
      .grid {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.25rem 0.5rem;
        align-items: center;
      }
      label {
        cursor: help;
      }
      select {
        min-width: 6.5rem;
      }
      .status {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 0.5rem;
        margin-top: 0.4rem;
      }
      .status button {
        padding: 0.1rem 0.5rem;
        font-size: 0.85em;
      }
    `,
  ];

  declare kernel: KernelDescriptor;
  declare config: PageConfig;
  declare caps: DeviceCaps | null;

  override render() {
    const kernel = this.kernel;
    const caps = this.caps ?? defaultCaps();
    const shape = referenceShape(this.config);
    const pinned = this.config.tiles[kernel.name] !== undefined;
    const tiles = shape ? effectiveTiles(kernel, this.config, caps, shape) : null;
    const problems = this.caps ? kernelProblems(this.caps, kernel.name, this.config) : [];
    const allSeqs = this.config.seqs.length;
    return html`
      <fieldset>
        <legend>${kernel.name} tiles</legend>
        <div class="grid">
          ${kernel.tunables.map((t) => {
            const id = `tile-${t.key}`;
            // ?selected serves the first render (the options do not exist yet when .value is set);
            // live() keeps later renders true to the state even after the user moved the select.
            return html`
              <label for=${id} title=${t.help}>${t.label}</label>
              <select
                id=${id}
                data-tile=${t.key}
                ?disabled=${!tiles}
                .value=${live(String(tiles?.[t.key] ?? ''))}
                title=${t.help}
                @change=${(e: Event) => this.onSelect(t.key, Number((e.target as HTMLSelectElement).value))}
              >
                ${t.values.map((v) => {
                  const problem = tiles && shape ? tileValueProblem(caps, kernel.name, shape, tiles, t.key, v) : null;
                  return html`<option value=${String(v)} ?selected=${tiles?.[t.key] === v} title=${problem ?? ''}>${problem ? `${v} ✕` : String(v)}</option>`;
                })}
              </select>
            `;
          })}
        </div>
        <div class="status small">
          ${
            pinned
              ? html`<span class="badge" title="These values stay as they are when the shape changes">pinned</span>
                <button type="button" @click=${this.onReset} aria-label=${`Reset ${kernel.name} tiles to the device default`}>Use default</button>`
              : html`<span class="muted">Device default for ${shape ? problemOf(this.config).label(shape) : '?'}; edit any value to pin.</span>`
          }
        </div>
        ${!this.caps ? html`<p class="muted small">No device: values are checked against the WebGPU default limits.</p>` : nothing}
        <div aria-live="polite" data-problems=${kernel.name}>
          ${problems.map(
            (p) => html`<div class="problem" data-limit=${p.limit}>
              ${p.message}${p.seqs.length < allSeqs ? html` <span class="small">(${axisField(problemOf(this.config)).label}: ${p.seqs.join(', ')})</span>` : nothing}
            </div>`,
          )}
          ${problems.length > 0 ? html`<p class="muted small">${kernel.name} is skipped where it cannot run; the other kernels still run.</p>` : nothing}
        </div>
      </fieldset>
    `;
  }

  private onSelect(key: string, value: number): void {
    const shape = referenceShape(this.config);
    if (!shape) return;
    const tiles = effectiveTiles(this.kernel, this.config, this.caps ?? defaultCaps(), shape);
    this.emit({ kernel: this.kernel.name, tiles: { ...tiles, [key]: value } });
  }

  private onReset = (): void => {
    this.emit({ kernel: this.kernel.name, tiles: null });
  };

  private emit(detail: TilesChangeDetail): void {
    this.dispatchEvent(new CustomEvent<TilesChangeDetail>('tiles-change', { detail, bubbles: true, composed: true }));
  }
}

customElements.define('tile-editor', TileEditor);

declare global {
  interface HTMLElementTagNameMap {
    'tile-editor': TileEditor;
  }
}
