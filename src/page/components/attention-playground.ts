import { LitElement, css, html, nothing } from 'lit';
import { PlaygroundController, type RooflineSource } from '../app/controller.js';
import type { PageConfig } from '../state/config.js';
import type { ComparisonReference } from '../state/cross-family.js';
import type { CompareView, PlotView } from '../state/view.js';
import type { ResultRecord } from '../../results/schema.js';
import { shared } from './styles.js';
import type { TilesChangeDetail } from './tile-editor.js';
import './autotune-panel.js';
import './config-panel.js';
import './cross-family-view.js';
import './device-panel.js';
import './family-views.js';
import './job-status.js';
import './memory-panel.js';
import './message-log.js';
import './results-plots.js';
import './results-table.js';
import './roofline-chart.js';
import './shader-view.js';
import './kv-calculator.js';

/**
 * Test and console hook, deliberately tiny: the browser tests wait on `completedJobs` and `busy`
 * instead of guessing from the DOM when a job has finished, and use `loseDevice()` to exercise the
 * device-loss banner (GPUDevice.destroy() makes the device lost, as a driver reset would).
 */
export interface PlaygroundHook {
  readonly controller: PlaygroundController;
  readonly busy: boolean;
  readonly completedJobs: number;
  loseDevice(): void;
}

declare global {
  interface Window {
    __playground?: PlaygroundHook;
  }
}

/** The page: configuration on the left; device, progress, results, the family's own view, memory and messages on the right. */
export class AttentionPlayground extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        max-width: 1680px;
        margin: 0 auto;
        padding: 1rem 1.25rem 2rem;
      }
      header h1 {
        font-size: 1.35rem;
        margin: 0;
      }
      header p {
        margin: 0.25rem 0 0.9rem;
        color: var(--muted);
        max-width: 70rem;
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(300px, 350px) minmax(0, 1fr);
        gap: 1rem;
        align-items: start;
      }
      @media (max-width: 900px) {
        .layout {
          grid-template-columns: 1fr;
        }
      }
      main {
        display: flex;
        flex-direction: column;
        gap: 1rem;
        min-width: 0;
      }
      .banner {
        border-radius: 8px;
        padding: 0.6rem 0.9rem;
        margin-bottom: 0.8rem;
        display: flex;
        gap: 0.8rem;
        align-items: center;
        justify-content: space-between;
      }
      .banner.error {
        background: var(--bad-bg);
        border: 1px solid var(--bad);
      }
      .banner.info {
        background: var(--info-bg);
        border: 1px solid var(--border-strong);
      }
      .banner .buttons {
        display: flex;
        gap: 0.4rem;
        flex-shrink: 0;
      }
      .results-head {
        display: flex;
        flex-wrap: wrap;
        justify-content: space-between;
        align-items: baseline;
        gap: 0.5rem;
        margin-bottom: 0.5rem;
      }
      .results-head .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.35rem;
      }
      .baseline {
        margin: 0 0 0.6rem;
      }
      .dropping {
        outline: 2px dashed var(--accent);
        outline-offset: 4px;
      }
      results-table {
        margin-top: 0.8rem;
      }
    `,
  ];

  private readonly ctl: PlaygroundController;
  private dropping = false;
  /** The cross-family comparison's reference kernel: the results table's ratio column divides by it. */
  private compareReference: ComparisonReference | null = null;

  constructor() {
    super();
    this.ctl = new PlaygroundController(this, {
      storage: window.localStorage,
      getSearch: () => window.location.search,
      setSearch: (search) => {
        if (search !== window.location.search) window.history.replaceState(window.history.state, '', `${search}${window.location.hash}`);
      },
    });
    const ctl = this.ctl;
    window.__playground = {
      controller: ctl,
      get busy() {
        return ctl.busy;
      },
      get completedJobs() {
        return ctl.completedJobs;
      },
      loseDevice: () => ctl.device.gpu?.destroy(),
    };
  }

  override render() {
    const ctl = this.ctl;
    const baseline = ctl.baseline?.results ?? null;
    const hasResults = ctl.results.length > 0;
    return html`
      <header>
        <h1>WebGPU attention playground</h1>
        <p>
          Standard attention writes the N×N scores S and probabilities P of every head to GPU memory and reads them back; FlashAttention
          streams key/value tiles through workgroup memory with a running softmax, so it never does. Measure both on this GPU, check every
          output against a float64 CPU reference, and tune the tiles live.
        </p>
      </header>
      ${this.renderBanners()}
      <div class="layout">
        <aside class="panel">
          <h2>Configuration</h2>
          <config-panel
            .config=${ctl.config}
            .caps=${ctl.caps}
            .busy=${ctl.busy}
            .stopping=${ctl.stopping}
            .estimate=${ctl.estimate}
            .blocked=${ctl.blocked}
            @config-change=${(e: CustomEvent<PageConfig>) => ctl.setConfig(e.detail)}
            @tiles-change=${(e: CustomEvent<TilesChangeDetail>) => ctl.setTiles(e.detail.kernel, e.detail.tiles)}
            @run=${() => ctl.run()}
            @stop=${() => ctl.stop()}
            @autotune=${() => ctl.autotune()}
          ></config-panel>
        </aside>
        <main>
          <device-panel
            .device=${ctl.device}
            .quantumNs=${ctl.quantumNs}
            .ceilings=${ctl.ceilings}
            .busy=${ctl.busy}
            @measure-ceilings=${() => ctl.measureCeilings()}
          ></device-panel>
          ${this.renderJob()}
          <section
            class="panel ${this.dropping ? 'dropping' : ''}"
            aria-label="Results"
            @dragover=${this.onDragOver}
            @dragleave=${() => this.setDropping(false)}
            @drop=${this.onDrop}
          >
            <div class="results-head">
              <h2>Results <span class="muted small">(${ctl.results.length})</span></h2>
              <div class="actions">
                <button type="button" ?disabled=${!hasResults} @click=${() => ctl.exportJson()} title="Download a results file (the command-line runner's format)">Export JSON</button>
                <button type="button" ?disabled=${!hasResults} @click=${() => ctl.exportCsv()} title="Download one row per result">Export CSV</button>
                <button type="button" ?disabled=${!hasResults} @click=${() => ctl.copy('json')}>Copy JSON</button>
                <button type="button" ?disabled=${!hasResults} @click=${() => ctl.copy('csv')}>Copy CSV</button>
                <button type="button" @click=${this.pickFile} title="Load a results file from the CLI or another browser as the baseline (or drop it here)">Import results</button>
                <button type="button" ?disabled=${!hasResults || ctl.busy} @click=${() => ctl.clearResults()}>Clear results</button>
                ${
                  ctl.previous.length > 0
                    ? html`<button type="button" @click=${() => ctl.clearPrevious()} title="Remove the rows (dashed lines) of the configuration before the latest tile edit">Clear previous</button>`
                    : nothing
                }
              </div>
            </div>
            ${
              ctl.baseline
                ? html`<p class="baseline small" data-baseline>
                  Baseline: <strong>${ctl.baselineName}</strong>, ${ctl.baseline.results.length} results from
                  ${ctl.baseline.context.adapter.description || ctl.baseline.context.adapter.vendor || 'an unnamed adapter'}
                  (${ctl.baseline.context.runtime}, ${ctl.baseline.context.date.slice(0, 10)}).
                  <button type="button" @click=${() => ctl.clearBaseline()}>Remove baseline</button>
                </p>`
                : nothing
            }
            <results-plots
              .results=${ctl.results}
              .baseline=${baseline}
              .previous=${ctl.previous}
              .config=${ctl.config}
              .view=${ctl.plotView}
              @view-change=${(e: CustomEvent<PlotView>) => ctl.setPlotView(e.detail)}
            ></results-plots>
            <results-table .results=${ctl.results} .baseline=${baseline} .previous=${ctl.previous} .reference=${this.compareReference}></results-table>
            <input type="file" accept=".json,application/json" hidden @change=${this.onFile} aria-label="Results file to import" />
          </section>
          <section class="panel" aria-label="Compare across families">
            <h2>Compare across families</h2>
            <cross-family-view
              .results=${ctl.results}
              .imported=${baseline}
              .importedName=${ctl.baselineName}
              .view=${ctl.storedView.compare}
              @view-change=${(e: CustomEvent<CompareView>) => ctl.setCompareView(e.detail)}
              @reference-change=${(e: CustomEvent<ComparisonReference | null>) => this.setCompareReference(e.detail)}
            ></cross-family-view>
          </section>
          ${this.renderInsight()}
          ${
            ctl.tunings.length > 0
              ? html`<section class="panel" aria-label="Autotune"><h2>Autotune</h2><autotune-panel .tunings=${ctl.tunings}></autotune-panel></section>`
              : nothing
          }
          <family-views .config=${ctl.config} .caps=${ctl.caps}></family-views>
          <section class="panel" aria-label="Memory">
            <h2>Memory per kernel</h2>
            <memory-panel .config=${ctl.config} .caps=${ctl.caps}></memory-panel>
          </section>
          <section class="panel" aria-label="GPU messages">
            <h2>GPU messages</h2>
            <message-log .log=${ctl.log}></message-log>
          </section>
        </main>
      </div>
    `;
  }

  /** The “show why” views: roofline, shaders, KV memory (src/page/components/{roofline-chart,shader-view,kv-calculator}.ts). */
  private renderInsight() {
    const ctl = this.ctl;
    const roof = ctl.roofline(ctl.baseline ? (ctl.storedView.roofline ?? ctl.defaultRooflineSource) : 'page');
    return html`
      <section class="panel" aria-label="Roofline">
        <h2>Roofline</h2>
        ${
          ctl.baseline
            ? html`<label class="small"
                >Points from
                <select
                  aria-label="Roofline points from"
                  @change=${(e: Event) => ctl.setRooflineChoice((e.target as HTMLSelectElement).value as RooflineSource)}
                >
                  <option value="page" ?selected=${roof.source === 'page'}>this page's results (this device's ceilings)</option>
                  <option value="file" ?selected=${roof.source === 'file'}>${ctl.baselineName ?? 'the imported file'} (its own ceilings)</option>
                </select></label
              >`
            : nothing
        }
        <roofline-chart .results=${roof.results} .ceilings=${roof.ceilings} .ceilingsSource=${roof.ceilingsSource}></roofline-chart>
      </section>
      <section class="panel" aria-label="Shader">
        <h2>Shader</h2>
        <shader-view .results=${ctl.results} .load=${(r: ResultRecord) => ctl.shadersOf(r)}></shader-view>
      </section>
      <section class="panel" aria-label="KV memory">
        <h2>KV cache and state memory</h2>
        <kv-calculator .maxBufferSize=${ctl.caps?.limits.maxBufferSize ?? null} @apply-preset=${(e: CustomEvent<PageConfig>) => ctl.setConfig(e.detail)} .config=${ctl.config}></kv-calculator>
      </section>
    `;
  }

  private renderBanners() {
    const ctl = this.ctl;
    const { status, message } = ctl.device;
    return html`
      ${
        status === 'lost'
          ? html`<div class="banner error" role="alert" data-banner="lost">
            <span><strong>The GPU device was lost</strong> (${message}). Your results are kept; running needs a new device.</span>
            <span class="buttons"><button type="button" class="primary" @click=${() => ctl.connect()}>Get a new device</button></span>
          </div>`
          : nothing
      }
      ${
        ctl.urlNotes.length > 0
          ? html`<div class="banner info" role="status" data-banner="url">
            <span>Some link parameters were ignored: ${ctl.urlNotes.join('; ')}.</span>
            <span class="buttons"><button type="button" @click=${() => {
              ctl.urlNotes = [];
              this.requestUpdate();
            }}>Dismiss</button></span>
          </div>`
          : nothing
      }
      ${
        ctl.notice
          ? html`<div class="banner ${ctl.notice.level}" role=${ctl.notice.level === 'error' ? 'alert' : 'status'} data-banner="notice">
            <span>${ctl.notice.text}</span>
            <span class="buttons">
              ${ctl.notice.action ? html`<button type="button" @click=${ctl.notice.action.run}>${ctl.notice.action.label}</button>` : nothing}
              <button type="button" @click=${() => ctl.dismissNotice()}>Dismiss</button>
            </span>
          </div>`
          : nothing
      }
    `;
  }

  private renderJob() {
    const ctl = this.ctl;
    return html`<job-status .job=${ctl.job} .waiting=${ctl.waiting} .stopping=${ctl.stopping} .ready=${ctl.device.status === 'ready'} @stop=${() => ctl.stop()}></job-status>`;
  }

  private pickFile = (): void => {
    this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click();
  };

  private onFile = async (e: Event): Promise<void> => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) this.ctl.importResults(file.name, await file.text());
  };

  private onDragOver = (e: DragEvent): void => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    this.setDropping(true);
  };

  private onDrop = async (e: DragEvent): Promise<void> => {
    e.preventDefault();
    this.setDropping(false);
    const file = e.dataTransfer?.files[0];
    if (file) this.ctl.importResults(file.name, await file.text());
  };

  private setCompareReference(reference: ComparisonReference | null): void {
    this.compareReference = reference;
    this.requestUpdate();
  }

  private setDropping(value: boolean): void {
    if (this.dropping === value) return;
    this.dropping = value;
    this.requestUpdate();
  }
}

customElements.define('attention-playground', AttentionPlayground);

declare global {
  interface HTMLElementTagNameMap {
    'attention-playground': AttentionPlayground;
  }
}
