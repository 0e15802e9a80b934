import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import type { DeviceCaps } from '../../gpu/caps.js';
import { FAMILIES } from '../../attention/registry.js';
import type { ShapeField } from '../../attention/types.js';
import { parseFieldList } from '../../attention/field-text.js';
import {
  LIMITS,
  type PageConfig,
  axisField,
  defaultConfig,
  fieldText,
  formatSeqList,
  kernelsOf,
  parseSeqList,
  problemOf,
  shapeProblem,
} from '../state/config.js';
import { LONG_RUN_S, type RunEstimate, formatDuration } from '../state/estimate.js';
import { shared } from './styles.js';
import './tile-editor.js';

type RunField = 'samples' | 'tuneMaxConfigs';

const RUN_FIELDS: { field: RunField; label: string; help: string; min: number; max: number }[] = [
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
    stopping: { type: Boolean },
    estimate: { attribute: false },
    blocked: { attribute: false },
    invalid: { state: true },
    seqText: { state: true },
    texts: { state: true },
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
      .estimate.long {
        color: var(--warn);
        font-weight: 600;
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
  declare stopping: boolean;
  /** How long Run would take; null without a device or a valid shape. */
  declare estimate: RunEstimate | null;
  declare blocked: string | null;
  /** Fields whose text is not a valid value yet, with the reason. */
  declare invalid: Partial<Record<string, string>>;
  declare seqText: string;
  /** What the user typed into each field that is not valid yet: shown as typed, never replaced by the last valid value. */
  declare texts: Partial<Record<string, string>>;

  constructor() {
    super();
    this.busy = false;
    this.stopping = false;
    this.estimate = null;
    this.blocked = null;
    this.invalid = {};
    this.texts = {};
    this.seqText = '';
    this.caps = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Lengths that changed from outside (a URL, an undo) replace the text; the user's own text,
    // even half-typed, stays as long as the lengths it stands for are the ones configured.
    if (!changed.has('config')) return;
    const previous = changed.get('config') as PageConfig | undefined;
    if (previous && previous.family !== this.config.family) {
      this.texts = {};
      this.invalid = {};
    }
    if (previous && previous.seqs.join() === this.config.seqs.join() && previous.family === this.config.family) return;
    const typed = parseSeqList(this.seqText, problemOf(this.config));
    if (!('values' in typed) || typed.values.join() !== this.config.seqs.join()) {
      this.seqText = formatSeqList(this.config.seqs);
      this.invalid = { ...this.invalid, seqs: undefined };
    }
  }

  override render() {
    const config = this.config;
    const problem = problemOf(config);
    const axis = axisField(problem);
    const shapeMessage = shapeProblem(config);
    const invalid = Object.values(this.invalid).filter(Boolean);
    const runBlocked = this.blocked ?? (invalid.length > 0 ? 'Fix the highlighted fields first' : null);
    const longest = Math.max(...config.seqs);
    return html`
      <form @submit=${(e: Event) => e.preventDefault()} aria-label="Configuration">
        <div class="run">
          <div class="actions">
            <button type="button" class="primary" ?disabled=${runBlocked !== null} @click=${() => this.emit('run')} title=${runBlocked ?? 'Benchmark every selected kernel at every length'}>Run</button>
            <button type="button" ?disabled=${!this.busy || this.stopping} @click=${() => this.emit('stop')} title="Cancel the running job and everything queued">${this.stopping ? 'Stopping…' : 'Stop'}</button>
            <button
              type="button"
              ?disabled=${runBlocked !== null}
              @click=${() => this.emit('autotune')}
              title=${runBlocked ?? `Search each selected kernel's tiles on ${axis.label} = ${longest}`}
            >Autotune</button>
          </div>
          ${this.renderEstimate()}
          <p class="hint">
            ${
              runBlocked
                ? html`<span class="problem">${runBlocked}</span>`
                : html`Autotune searches each selected kernel's tiles on the largest value, ${axis.label} = ${longest}, pins the fastest configuration that passes the reference check, and adds the checked finalists to the results.`
            }
          </p>
        </div>
        ${
          FAMILIES.length > 1
            ? html`<div class="fields">
              <label for="family" title="Which attention problem: each has its own shape fields and kernels">Family</label>
              <select id="family" .value=${live(config.family)} @change=${this.onFamily}>
                ${FAMILIES.map((f) => html`<option value=${f.problem.family} ?selected=${f.problem.family === config.family} title=${f.problem.description}>${f.problem.family}</option>`)}
              </select>
              <div class="wide hint">${problem.title}: ${problem.description}</div>
            </div>`
            : nothing
        }
        <fieldset>
          <legend>Kernels</legend>
          ${kernelsOf(config.family).map((k) => {
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
              <label for="seqs">${axis.label}</label>
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
                ${this.invalid.seqs ?? `${axis.help} Comma-separated; 4k = 4096; 256..4096 doubles from 256 to 4096.`}
              </div>
            </div>
            ${problem.fields.filter((f) => f.key !== problem.axis).map((f) => this.shapeField(f))}
          </div>
          ${shapeMessage ? html`<div class="problem" role="alert">${shapeMessage}</div>` : nothing}
        </fieldset>

        ${kernelsOf(config.family)
          .filter((k) => config.kernels.includes(k.name))
          .map((k) => html`<tile-editor .kernel=${k} .config=${config} .caps=${this.caps}></tile-editor>`)}

        <fieldset>
          <legend>Measurement</legend>
          <div class="fields">${RUN_FIELDS.map((f) => this.numberField(f))}</div>
        </fieldset>

      </form>
    `;
  }

  /** Before Run: cases × per-case time from the FLOP model, so a long sweep is no surprise. */
  private renderEstimate() {
    const e = this.estimate;
    if (!e || e.cases === 0) return nothing;
    const long = e.seconds > LONG_RUN_S;
    const rate = e.rateSource === 'measured' ? 'at the rate measured here' : 'at an assumed rate for this kind of adapter';
    return html`<p class="small estimate ${long ? 'long' : ''}" data-estimate title=${`Each case's FLOPs over the rate, times the samples plus check and warm-up runs, plus compile and the CPU reference; ${rate}.`}>
      Run: ${e.cases} case${e.cases === 1 ? '' : 's'}, ${formatDuration(e.seconds)}${long ? ' — a long run: fewer or shorter lengths finish sooner' : ''}.
    </p>`;
  }

  /** One control per shape field, by kind; the label is the field's label, its accessible name. */
  private shapeField(f: ShapeField) {
    const id = `field-${f.key}`;
    const message = this.invalid[f.key];
    const config = this.config;
    if (f.kind === 'bool') {
      return html`
        <label for=${id} title=${f.help}>${f.label}</label>
        <span><input id=${id} type="checkbox" .checked=${live(config.shape[f.key] === true)} @change=${(e: Event) => this.setShape(f.key, (e.target as HTMLInputElement).checked)} aria-describedby=${`${id}-help`} /></span>
        <div id=${`${id}-help`} class="wide hint">${f.help}</div>
      `;
    }
    if (f.kind === 'choice') {
      return html`
        <label for=${id} title=${f.help}>${f.label}</label>
        <select id=${id} .value=${live(String(config.shape[f.key]))} title=${f.help} @change=${(e: Event) => this.setShape(f.key, (e.target as HTMLSelectElement).value)}>
          ${f.choices.map((c) => html`<option value=${c} ?selected=${config.shape[f.key] === c}>${c}</option>`)}
        </select>
      `;
    }
    // Whole numbers and lists: text as typed stays while it is not valid (a red message says why).
    const follows =
      f.kind === 'int' && typeof f.default === 'object' ? problemOf(config).fields.find((x) => x.key === (f.default as { sameAs: string }).sameAs) : undefined;
    const text = this.texts[f.key] ?? fieldText(config, f);
    return html`
      <label for=${id} title=${f.help}>${f.label}</label>
      <input
        id=${id}
        type=${f.kind === 'int' ? 'number' : 'text'}
        min=${f.kind === 'int' ? f.min : nothing}
        max=${f.kind === 'int' ? f.max : nothing}
        step="1"
        placeholder=${follows ? `= ${follows.label}` : nothing}
        .value=${live(text)}
        aria-invalid=${message ? 'true' : 'false'}
        title=${message ?? f.help}
        @input=${(e: Event) => this.onText(f, (e.target as HTMLInputElement).value, Boolean(follows))}
      />
      ${message ? html`<div class="problem wide">${f.label}: ${message}</div>` : nothing}
    `;
  }

  private onText(f: ShapeField, text: string, mayFollow: boolean): void {
    if (text.trim() === '' && mayFollow) {
      this.texts = { ...this.texts, [f.key]: undefined };
      this.invalid = { ...this.invalid, [f.key]: undefined };
      const shape = { ...this.config.shape };
      delete shape[f.key];
      this.change({ ...this.config, shape });
      return;
    }
    const parsed = parseFieldList(f, text);
    if ('error' in parsed || parsed.values.length !== 1) {
      const range = f.kind === 'int' ? `a whole number from ${f.min} to ${f.max}` : 'one value';
      this.texts = { ...this.texts, [f.key]: text };
      this.invalid = { ...this.invalid, [f.key]: range };
      return;
    }
    this.texts = { ...this.texts, [f.key]: undefined };
    this.invalid = { ...this.invalid, [f.key]: undefined };
    this.setShape(f.key, parsed.values[0]!);
  }

  private setShape(key: string, value: ShapeField['default'] | string | boolean | number | readonly number[]): void {
    this.change({ ...this.config, shape: { ...this.config.shape, [key]: value as never } });
  }

  private numberField(f: (typeof RUN_FIELDS)[number]) {
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
        .value=${live(this.texts[f.field] ?? String(this.config[f.field]))}
        aria-invalid=${message ? 'true' : 'false'}
        title=${message ?? f.help}
        @input=${(e: Event) => this.onNumber(f, e.target as HTMLInputElement)}
      />
      ${message ? html`<div class="problem wide">${f.label}: ${message}</div>` : nothing}
    `;
  }

  private onNumber(f: (typeof RUN_FIELDS)[number], input: HTMLInputElement): void {
    const n = Number(input.value);
    if (input.value.trim() === '' || !Number.isInteger(n) || n < f.min || n > f.max) {
      this.texts = { ...this.texts, [f.field]: input.value };
      this.invalid = { ...this.invalid, [f.field]: `a whole number from ${f.min} to ${f.max}` };
      return;
    }
    this.texts = { ...this.texts, [f.field]: undefined };
    this.invalid = { ...this.invalid, [f.field]: undefined };
    this.change({ ...this.config, [f.field]: n });
  }

  private onFamily = (e: Event): void => {
    const family = (e.target as HTMLSelectElement).value;
    if (family === this.config.family) return;
    const fresh = defaultConfig(family);
    this.change({ ...fresh, samples: this.config.samples, tuneMaxConfigs: this.config.tuneMaxConfigs });
  };

  private onSeqs = (e: Event): void => {
    this.seqText = (e.target as HTMLInputElement).value;
    const parsed = parseSeqList(this.seqText, problemOf(this.config));
    if ('error' in parsed) {
      this.invalid = { ...this.invalid, seqs: parsed.error };
      return;
    }
    this.invalid = { ...this.invalid, seqs: undefined };
    this.change({ ...this.config, seqs: parsed.values });
  };

  private onKernel = (e: Event): void => {
    const input = e.target as HTMLInputElement;
    const chosen = new Set(this.config.kernels);
    if (input.checked) chosen.add(input.value);
    else chosen.delete(input.value);
    this.change({
      ...this.config,
      kernels: kernelsOf(this.config.family)
        .map((k) => k.name)
        .filter((n) => chosen.has(n)),
    });
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
