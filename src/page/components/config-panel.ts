import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import type { DeviceCaps } from '../../gpu/caps.js';
import { KERNELS } from '../../attention/registry.js';
import { LIMITS, type PageConfig, formatSeqList, parseSeqList, shapeProblem } from '../state/config.js';
import { shared } from './styles.js';
import './tile-editor.js';

type NumberField = 'batch' | 'heads' | 'kvHeads' | 'headDim' | 'samples' | 'tuneMaxConfigs';

const NUMBER_FIELDS: { field: NumberField; label: string; help: string; min: number; max: number }[] = [
  { field: 'headDim', label: 'Head dim', help: 'd: features per head. Flash needs a multiple of 4.', ...LIMITS.headDim },
  { field: 'heads', label: 'Heads', help: 'Query heads per batch element.', ...LIMITS.heads },
  { field: 'kvHeads', label: 'KV heads', help: 'Key/value heads; must divide Heads (equal: multi-head, 1: multi-query, between: grouped-query).', ...LIMITS.kvHeads },
  { field: 'batch', label: 'Batch', help: 'Independent sequences.', ...LIMITS.batch },
];

const RUN_FIELDS: { field: NumberField; label: string; help: string; min: number; max: number }[] = [
  { field: 'samples', label: 'Samples', help: 'Timed samples per case; the table shows their median and p20–p80.', ...LIMITS.samples },
  {
    field: 'tuneMaxConfigs',
    label: 'Autotune configurations',
    help: 'Most tile configurations Autotune measures per kernel before it re-times and checks the fastest three.',
    ...LIMITS.tuneMaxConfigs,
  },
];

/**
 * The configuration form: kernels, shape, each selected kernel's tiles, and the run controls.
 * Emits `config-change` with a whole valid configuration; a field being typed that is not valid
 * yet keeps its own text and message and holds Run back until it is.
 */
export class ConfigPanel extends LitElement {
  static override properties = {
    config: { attribute: false },
    caps: { attribute: false },
    busy: { type: Boolean },
    blocked: { attribute: false },
    invalid: { state: true },
    seqText: { state: true },
  };
  static override styles = [
    shared,
    css`
      form {
        display: flex;
        flex-direction: column;
        gap: 0.7rem;
      }
      fieldset {
        border: 1px solid var(--border);
        border-radius: 6px;
        margin: 0;
        padding: 0.4rem 0.6rem 0.55rem;
      }
      legend {
        font-weight: 600;
        padding: 0 0.3rem;
      }
      .fields {
        display: grid;
        grid-template-columns: 1fr 6.5rem;
        gap: 0.3rem 0.5rem;
        align-items: center;
      }
      .fields input[type='number'] {
        width: 100%;
      }
      .wide {
        grid-column: 1 / -1;
      }
      .wide input {
        width: 100%;
      }
      .kernel {
        display: block;
        margin: 0.15rem 0;
      }
      .kernel .muted {
        display: block;
        margin-left: 1.5rem;
        font-size: 0.82em;
      }
      .actions {
        display: flex;
        gap: 0.4rem;
        flex-wrap: wrap;
      }
      .hint {
        font-size: 0.82em;
        color: var(--muted);
      }
      tile-editor + tile-editor {
        margin-top: 0.5rem;
      }
    `,
  ];

  declare config: PageConfig;
  declare caps: DeviceCaps | null;
  declare busy: boolean;
  declare blocked: string | null;
  /** Fields whose text is not a valid value yet, with the reason. */
  declare invalid: Partial<Record<NumberField | 'seqs', string>>;
  declare seqText: string;

  constructor() {
    super();
    this.busy = false;
    this.blocked = null;
    this.invalid = {};
    this.seqText = '';
    this.caps = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Lengths that changed from outside (a URL, an undo) replace the text; the user's own text,
    // even half-typed, stays as long as the lengths it stands for are the ones configured.
    if (!changed.has('config')) return;
    const previous = changed.get('config') as PageConfig | undefined;
    if (previous && previous.seqs.join() === this.config.seqs.join()) return;
    const typed = parseSeqList(this.seqText);
    if (!('values' in typed) || typed.values.join() !== this.config.seqs.join()) {
      this.seqText = formatSeqList(this.config.seqs);
      this.invalid = { ...this.invalid, seqs: undefined };
    }
  }

  override render() {
    const config = this.config;
    const problem = shapeProblem(config);
    const invalid = Object.values(this.invalid).filter(Boolean);
    const runBlocked = this.blocked ?? (invalid.length > 0 ? 'Fix the highlighted fields first' : null);
    const longest = Math.max(...config.seqs);
    return html`
      <form @submit=${(e: Event) => e.preventDefault()} aria-label="Configuration">
        <fieldset>
          <legend>Kernels</legend>
          ${KERNELS.map((k) => {
            const missing = k.requiredFeatures.filter((f) => this.caps && !this.caps.features.includes(f));
            const id = `kernel-${k.name}`;
            return html`<div class="kernel" title=${k.description}>
              <input id=${id} type="checkbox" name="kernel" value=${k.name} .checked=${live(config.kernels.includes(k.name))} @change=${this.onKernel} aria-describedby=${`${id}-title`} />
              <label for=${id}>${k.name}</label>
              <span id=${`${id}-title`} class="muted">${k.title}${missing.length ? html` — needs ${missing.join(', ')}, which this device lacks` : nothing}</span>
            </div>`;
          })}
        </fieldset>

        <fieldset>
          <legend>Shape</legend>
          <div class="fields">
            <div class="wide">
              <label for="seqs">Sequence lengths</label>
              <input
                id="seqs"
                type="text"
                inputmode="numeric"
                autocomplete="off"
                spellcheck="false"
                .value=${live(this.seqText)}
                aria-invalid=${this.invalid.seqs ? 'true' : 'false'}
                aria-describedby="seqs-help"
                @input=${this.onSeqs}
              />
              <div id="seqs-help" class=${this.invalid.seqs ? 'problem' : 'hint'}>
                ${this.invalid.seqs ?? 'N for Q and K (self-attention). Comma-separated; 4k = 4096; 256..4096 doubles from 256 to 4096.'}
              </div>
            </div>
            ${NUMBER_FIELDS.map((f) => this.numberField(f))}
            <label for="causal">Causal</label>
            <span><input id="causal" type="checkbox" .checked=${live(config.causal)} @change=${this.onCausal} aria-describedby="causal-help" /></span>
            <div id="causal-help" class="wide hint">Causal: query i sees keys 0..i; flash skips the tiles above the diagonal and FLOPs count only unmasked pairs.</div>
          </div>
          ${problem ? html`<div class="problem" role="alert">${problem}</div>` : nothing}
        </fieldset>

        ${KERNELS.filter((k) => config.kernels.includes(k.name)).map(
          (k) => html`<tile-editor .kernel=${k} .config=${config} .caps=${this.caps}></tile-editor>`,
        )}

        <fieldset>
          <legend>Measurement</legend>
          <div class="fields">${RUN_FIELDS.map((f) => this.numberField(f))}</div>
        </fieldset>

        <div>
          <div class="actions">
            <button type="button" class="primary" ?disabled=${runBlocked !== null} @click=${() => this.emit('run')} title=${runBlocked ?? 'Benchmark every selected kernel at every length'}>Run</button>
            <button type="button" ?disabled=${!this.busy} @click=${() => this.emit('stop')} title="Cancel the running job and everything queued">Stop</button>
            <button
              type="button"
              ?disabled=${runBlocked !== null}
              @click=${() => this.emit('autotune')}
              title=${runBlocked ?? `Search each selected kernel's tiles on N = ${longest}`}
            >Autotune</button>
          </div>
          <p class="hint">
            ${runBlocked
              ? html`<span class="problem">${runBlocked}</span>`
              : html`Autotune searches each selected kernel's tiles on the longest length, N = ${longest}, pins the fastest configuration that passes the reference check, and adds the checked finalists to the results.`}
          </p>
        </div>
      </form>
    `;
  }

  private numberField(f: (typeof NUMBER_FIELDS)[number]) {
    const id = `field-${f.field}`;
    const message = this.invalid[f.field];
    return html`
      <label for=${id} title=${f.help}>${f.label}</label>
      <input
        id=${id}
        type="number"
        min=${f.min}
        max=${f.max}
        step="1"
        required
        .value=${live(String(this.config[f.field]))}
        aria-invalid=${message ? 'true' : 'false'}
        title=${message ?? f.help}
        @input=${(e: Event) => this.onNumber(f, e.target as HTMLInputElement)}
      />
      ${message ? html`<div class="problem wide">${f.label}: ${message}</div>` : nothing}
    `;
  }

  private onNumber(f: (typeof NUMBER_FIELDS)[number], input: HTMLInputElement): void {
    const n = Number(input.value);
    if (input.value.trim() === '' || !Number.isInteger(n) || n < f.min || n > f.max) {
      this.invalid = { ...this.invalid, [f.field]: `a whole number from ${f.min} to ${f.max}` };
      return;
    }
    this.invalid = { ...this.invalid, [f.field]: undefined };
    this.change({ ...this.config, [f.field]: n });
  }

  private onSeqs = (e: Event): void => {
    this.seqText = (e.target as HTMLInputElement).value;
    const parsed = parseSeqList(this.seqText);
    if ('error' in parsed) {
      this.invalid = { ...this.invalid, seqs: parsed.error };
      return;
    }
    this.invalid = { ...this.invalid, seqs: undefined };
    this.change({ ...this.config, seqs: parsed.values });
  };

  private onCausal = (e: Event): void => {
    this.change({ ...this.config, causal: (e.target as HTMLInputElement).checked });
  };

  private onKernel = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    const chosen = new Set(this.config.kernels);
    if (input.checked) chosen.add(input.value);
    else chosen.delete(input.value);
    this.change({ ...this.config, kernels: KERNELS.map((k) => k.name).filter((n) => chosen.has(n)) });
  };

  private change(config: PageConfig): void {
    this.dispatchEvent(new CustomEvent<PageConfig>('config-change', { detail: config, bubbles: true, composed: true }));
  }

  private emit(name: 'run' | 'stop' | 'autotune'): void {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }
}

customElements.define('config-panel', ConfigPanel);

declare global {
  interface HTMLElementTagNameMap {
    'config-panel': ConfigPanel;
  }
}
