import { LitElement, css, html } from 'lit';
import type { JobState } from '../app/controller.js';
import { shared } from './styles.js';

/** How often the elapsed time is redrawn while a job runs. */
export const TICK_MS = 1000;

/**
 * The running job: label, cases done, elapsed seconds and Stop. The elapsed time has its own
 * one-second timer: progress events come only between stages, and a stage (a compile, a timing
 * loop, the reference in its worker) can take a minute on a software adapter, during which a
 * counter redrawn only on progress looks like a hung page.
 */
export class JobStatus extends LitElement {
  static override properties = {
    job: { attribute: false },
    waiting: { type: Number },
    stopping: { type: Boolean },
    ready: { type: Boolean },
  };
  static override styles = [
    shared,
    css`
      .job {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.25rem 1rem;
        align-items: center;
      }
      progress {
        width: 100%;
        height: 0.6rem;
        accent-color: var(--accent);
      }
    `,
  ];

  declare job: JobState | null;
  declare waiting: number;
  declare stopping: boolean;
  /** A device is open (the idle text then says what Run does). */
  declare ready: boolean;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.job = null;
    this.waiting = 0;
    this.stopping = false;
    this.ready = false;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.setTicking(false);
  }

  protected override updated(): void {
    this.setTicking(this.job !== null);
  }

  private setTicking(on: boolean): void {
    if (on && this.timer === undefined) this.timer = setInterval(() => this.requestUpdate(), TICK_MS);
    if (!on && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  override render() {
    const job = this.job;
    if (!job) {
      return html`<section class="panel" aria-label="Progress"><p class="muted small" role="status" data-job="idle">
        Idle. ${this.ready ? 'Run benchmarks the selected kernels at every length; editing a tile re-runs that kernel.' : ''}
      </p></section>`;
    }
    const { done, total, detail } = job.progress;
    const seconds = Math.floor((performance.now() - job.startedAt) / 1000);
    return html`<section class="panel" aria-label="Progress">
      <div class="job" role="status" data-job=${this.stopping ? 'stopping' : 'running'}>
        <strong>${job.label}</strong>
        <span class="muted small">${done} of ${total || '?'} · <span data-elapsed>${seconds} s</span>${this.waiting > 0 ? ` · ${this.waiting} queued` : ''}</span>
        <progress aria-label="Progress" max=${Math.max(total, 1)} .value=${done}></progress>
        <button
          type="button"
          ?disabled=${this.stopping}
          @click=${() => this.dispatchEvent(new CustomEvent('stop', { bubbles: true, composed: true }))}
          aria-label=${this.stopping ? 'Stopping the running job' : 'Stop the running job'}
        >${this.stopping ? 'Stopping…' : 'Stop'}</button>
        <span class="small">${this.stopping ? `Stopping… the current step (${detail}) finishes first.` : detail}</span>
      </div>
    </section>`;
  }
}

customElements.define('job-status', JobStatus);

declare global {
  interface HTMLElementTagNameMap {
    'job-status': JobStatus;
  }
}
