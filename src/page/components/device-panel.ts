import { LitElement, css, html, nothing } from 'lit';
import { DEFAULT_LIMITS, LIMIT_NAMES } from '../../gpu/caps.js';
import type { DeviceState } from '../app/controller.js';
import { formatBytes } from '../state/format.js';
import { timestampSummary } from '../state/timing.js';
import type { Ceilings } from '../../results/roofline.js';
import { shared } from './styles.js';

/** Optional features the kernels and the timer use, and what each changes here. */
const FEATURES = [
  { name: 'timestamp-query', use: 'GPU-side timing of each sample (else the host clock)' },
  { name: 'shader-f16', use: 'half-precision kernels' },
  { name: 'subgroups', use: 'flash row reductions by subgroup shuffles' },
] as const;

/** Why each limit matters to attention, shown beside it. */
const LIMIT_USE: Record<string, string> = {
  maxComputeWorkgroupStorageSize: 'flash K/V and P tiles',
  maxComputeInvocationsPerWorkgroup: 'workgroup size',
  maxComputeWorkgroupSizeX: 'workgroup size',
  maxComputeWorkgroupsPerDimension: 'query tiles, heads, batch',
  maxStorageBufferBindingSize: 'naive S and P (B·H·N² floats)',
  maxBufferSize: 'largest buffer',
  maxStorageBuffersPerShaderStage: 'Q, K, V, O bindings',
  maxUniformBufferBindingSize: 'shape parameters',
};

/** The adapter, its features and the limits that decide which tile configurations can run. */
export class DevicePanel extends LitElement {
  static override properties = {
    device: { attribute: false },
    quantumNs: { attribute: false },
    ceilings: { attribute: false },
    busy: { attribute: false },
  };
  static override styles = [
    shared,
    css`
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.1rem 0.8rem;
        margin: 0;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
      }
      .cols {
        display: grid;
        grid-template-columns: minmax(260px, 1fr) minmax(320px, 1.4fr);
        gap: 0.5rem 1.5rem;
      }
      @media (max-width: 900px) {
        .cols {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      /* On a phone the limit names (maxComputeWorkgroupStorageSize) break, and the table scrolls
         inside the panel rather than pushing the page sideways. */
      .cols > * {
        min-width: 0;
      }
      td.mono {
        overflow-wrap: anywhere;
      }
      .warn {
        color: var(--warn);
      }
      td.raised {
        color: var(--good);
        font-weight: 600;
      }
      .unavailable h2 {
        color: var(--bad);
      }
      ul {
        margin: 0.3rem 0;
        padding-left: 1.2rem;
      }
    `,
  ];

  declare device: DeviceState;
  declare quantumNs: number | null;
  /** Measured on this device; null before “Measure ceilings”. */
  declare ceilings: Ceilings | null;
  /** A job is running: the probes wait for the queue, so the button says so by being disabled. */
  declare busy: boolean;

  constructor() {
    super();
    this.device = { status: 'connecting', gpu: null, message: null };
    this.quantumNs = null;
    this.ceilings = null;
    this.busy = false;
  }

  private renderCeilings() {
    const c = this.ceilings;
    const rate = (v: number | undefined, why: string) => (v === undefined ? html`<span class="muted">— (${why})</span>` : `${v.toPrecision(3)} TFLOP/s`);
    return html`
      <h3>Ceilings</h3>
      <p class="small muted">What this device reaches through WebGPU: a vec4 copy kernel (bytes read + written) and multiply-add chains; the roofline below draws them.</p>
      <button type="button" ?disabled=${this.busy} @click=${() => this.dispatchEvent(new CustomEvent('measure-ceilings', { bubbles: true, composed: true }))}>Measure ceilings</button>
      ${
        c
          ? html`<dl aria-label="Ceilings" data-ceilings>
            <dt>Copy bandwidth</dt><dd data-ceiling="copy">${c.copyGBps.toPrecision(3)} GB/s</dd>
            <dt>f32 FMA</dt><dd data-ceiling="f32">${rate(c.f32Tflops, '')}</dd>
            <dt>f16 FMA</dt><dd data-ceiling="f16">${rate(c.f16Tflops, 'no shader-f16')}</dd>
            <dt>Subgroup matrix</dt><dd data-ceiling="mma">${rate(c.mmaTflops, 'no f16→f32 subgroup matrices')}</dd>
          </dl>`
          : nothing
      }
    `;
  }

  override render() {
    const { status, gpu, message } = this.device;
    if (status === 'connecting') return html`<section class="panel" aria-label="Device"><h2>Device</h2><p class="muted">Opening a WebGPU device…</p></section>`;
    if (status === 'unavailable') return this.renderUnavailable(message ?? '');
    if (!gpu) {
      return html`<section class="panel" aria-label="Device"><h2>Device</h2><p class="muted">No device: it was lost (see the banner above).</p></section>`;
    }
    const { adapter, caps } = gpu;
    const timestamps = caps.features.includes('timestamp-query');
    return html`
      <section class="panel" aria-label="Device">
        <h2>Device</h2>
        <div class="cols">
          <div>
            <dl>
              <dt>Vendor</dt><dd data-field="vendor">${adapter.vendor || '—'}</dd>
              <dt>Architecture</dt><dd data-field="architecture">${adapter.architecture || '—'}</dd>
              <dt>Description</dt><dd data-field="description">${adapter.description || adapter.device || '—'}</dd>
              <dt>Runtime</dt><dd>${gpu.runtime}</dd>
            </dl>
            ${
              adapter.software
                ? html`<p class="warn small">Software adapter (a CPU implementation of WebGPU): results are checked for correctness, but its timings say nothing about GPUs.</p>`
                : nothing
            }
            <h3>Features</h3>
            <table aria-label="Features">
              <tbody>
                ${FEATURES.map((f) => {
                  const has = caps.features.includes(f.name);
                  return html`<tr data-feature=${f.name}>
                    <td class="mono">${f.name}</td>
                    <td class=${has ? 'yes' : 'no'}>${has ? 'yes' : 'no'}</td>
                    <td class="muted small">${f.use}${f.name === 'subgroups' && has ? html` (sizes ${caps.subgroupMinSize}–${caps.subgroupMaxSize})` : nothing}</td>
                  </tr>`;
                })}
              </tbody>
            </table>
            <h3>Timing</h3>
            <p class="small" data-field="timing">${timestampSummary(timestamps, this.quantumNs)}</p>
            ${gpu.notes.map((n) => html`<p class="small muted">${n}</p>`)}
            ${this.renderCeilings()}
          </div>
          <div>
            <div class="scroll"><table aria-label="Limits">
              <thead>
                <tr><th>Limit</th><th class="num">WebGPU default</th><th class="num">Granted</th><th>Bounds</th></tr>
              </thead>
              <tbody>
                ${LIMIT_NAMES.map((name) => {
                  const granted = caps.limits[name];
                  const base = DEFAULT_LIMITS[name];
                  return html`<tr data-limit=${name}>
                    <td class="mono small">${name}</td>
                    <td class="num">${this.formatLimit(name, base)}</td>
                    <td class="num ${granted > base ? 'raised' : ''}" title=${granted > base ? 'above the WebGPU default: requested from the adapter' : ''}>${this.formatLimit(name, granted)}</td>
                    <td class="muted small">${LIMIT_USE[name] ?? ''}</td>
                  </tr>`;
                })}
              </tbody>
            </table></div>
          </div>
        </div>
      </section>
    `;
  }

  private formatLimit(name: string, value: number) {
    return /Size$/.test(name) && value >= 1024 ? html`<span title=${`${value} bytes`}>${formatBytes(value)}</span>` : String(value);
  }

  private renderUnavailable(message: string) {
    return html`
      <section class="panel unavailable" aria-label="Device" role="alert">
        <h2>WebGPU is not available</h2>
        <p data-field="unavailable">${message}</p>
        <p>To run the kernels here:</p>
        <ul>
          <li>Use Chrome or Edge 113 or newer (WebGPU is on by default on Windows, macOS and ChromeOS).</li>
          <li>On Linux, enable <code>chrome://flags/#enable-unsafe-webgpu</code> and <code>chrome://flags/#enable-vulkan</code>, then restart the browser.</li>
          <li>Open the page over https or from <code>http://localhost</code>: WebGPU needs a secure context (a plain <code>file://</code> or LAN http address will not do).</li>
          <li>If an adapter is still missing, <code>chrome://gpu</code> tells whether the GPU is blocklisted.</li>
        </ul>
        <p class="muted small">Kept results, import, export and the plots still work without a device.</p>
      </section>
    `;
  }
}

customElements.define('device-panel', DevicePanel);

declare global {
  interface HTMLElementTagNameMap {
    'device-panel': DevicePanel;
  }
}
