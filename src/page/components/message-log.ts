import { LitElement, css, html } from 'lit';
import type { LogEntry } from '../app/controller.js';
import { shared } from './styles.js';

/**
 * Everything the GPU said that no single row owns: uncaptured errors, device loss, compiler output
 * of failed pipelines, notes about the adapter. Newest first, never swallowed.
 */
export class MessageLog extends LitElement {
  static override properties = { log: { attribute: false } };
  static override styles = [
    shared,
    css`
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        max-height: 16rem;
        overflow: auto;
      }
      li {
        padding: 0.2rem 0;
        border-bottom: 1px solid var(--border);
        display: grid;
        grid-template-columns: 5.5rem 1fr;
        gap: 0.5rem;
      }
      pre {
        margin: 0;
        white-space: pre-wrap;
        font-family: var(--mono);
        font-size: 0.85em;
      }
      .error pre {
        color: var(--bad);
      }
      .warning pre {
        color: var(--warn);
      }
    `,
  ];

  declare log: LogEntry[];

  override render() {
    if (this.log.length === 0) return html`<p class="muted small">No GPU errors or warnings so far.</p>`;
    return html`<ul aria-label="GPU messages">
      ${[...this.log].reverse().map(
        (e) => html`<li class=${e.level} data-level=${e.level}>
          <span class="muted small">${e.time.toLocaleTimeString()}</span>
          <pre>${e.text}</pre>
        </li>`,
      )}
    </ul>`;
  }
}

customElements.define('message-log', MessageLog);

declare global {
  interface HTMLElementTagNameMap {
    'message-log': MessageLog;
  }
}
