import { css } from 'lit';

/**
 * Styles every component shares. Shadow roots do not inherit stylesheets, only custom properties,
 * so the palette lives in properties set on the page (index.html) and these rules are adopted by
 * each component.
 */
export const shared = css`
  :host {
    display: block;
    color: var(--fg);
    font: inherit;
  }
  * {
    box-sizing: border-box;
  }
  h2 {
    font-size: 1rem;
    margin: 0 0 0.5rem;
    font-weight: 650;
  }
  h3 {
    font-size: 0.9rem;
    margin: 0.75rem 0 0.35rem;
    font-weight: 600;
  }
  p {
    margin: 0.35rem 0;
  }
  .muted {
    color: var(--muted);
  }
  .small {
    font-size: 0.85em;
  }
  code,
  .mono {
    font-family: var(--mono);
    font-size: 0.92em;
  }
  .panel {
    background: var(--panel);
    border: 1px solid var(--border);
    border-radius: 8px;
    padding: 0.75rem 0.9rem;
  }
  button {
    font: inherit;
    padding: 0.35rem 0.8rem;
    border-radius: 6px;
    border: 1px solid var(--border-strong);
    background: var(--button);
    color: var(--fg);
    cursor: pointer;
  }
  button:hover:not(:disabled) {
    background: var(--button-hover);
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: var(--accent-fg);
    font-weight: 600;
  }
  button.primary:hover:not(:disabled) {
    background: var(--accent-hover);
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible {
    outline: 2px solid var(--accent);
    outline-offset: 1px;
  }
  input,
  select {
    font: inherit;
    color: var(--fg);
    background: var(--input);
    border: 1px solid var(--border-strong);
    border-radius: 5px;
    padding: 0.25rem 0.4rem;
  }
  input[aria-invalid='true'] {
    border-color: var(--bad);
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 0.25rem 0.5rem;
    border-bottom: 1px solid var(--border);
    vertical-align: top;
  }
  th {
    font-weight: 600;
    color: var(--muted);
    font-size: 0.85em;
    white-space: nowrap;
  }
  td.num,
  th.num {
    text-align: right;
    white-space: nowrap;
    font-variant-numeric: tabular-nums;
  }
  /* Wide tables scroll sideways inside their panel instead of widening the page. */
  .scroll {
    overflow-x: auto;
  }
  .scroll > table {
    font-size: 0.88em;
  }
  .problem {
    color: var(--bad);
    background: var(--bad-bg);
    border-left: 3px solid var(--bad);
    padding: 0.3rem 0.5rem;
    margin: 0.35rem 0;
    border-radius: 0 4px 4px 0;
    font-size: 0.88em;
  }
  .badge {
    display: inline-block;
    font-size: 0.75em;
    padding: 0 0.4em;
    border-radius: 999px;
    border: 1px solid var(--border-strong);
    color: var(--muted);
    white-space: nowrap;
  }
  .yes {
    color: var(--good);
  }
  .no {
    color: var(--muted);
  }
`;

/** A titled figure (a chart, a map of blocks or tiles): no figure margin, a bold caption above it. */
export const figureStyles = css`
  figure {
    margin: 0;
  }
  figcaption {
    font-weight: 600;
    font-size: 0.9rem;
    margin-bottom: 0.3rem;
  }
`;
