import { type CSSResultGroup, type ReactiveController, type ReactiveElement, css, unsafeCSS } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';

/** The page's axis colours (its --muted and --border properties), and uPlot's axis options in them. */
export interface AxisStyle {
  color: string;
  gridColor: string;
  axis: uPlot.Axis;
}

/** What a chart draws: its uPlot options, less the size the host sets, and its data. */
export interface UplotPlan {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
}

export interface UplotHostOptions {
  height: number;
  /** Width before the element has been laid out (its box is 0 wide). */
  fallbackWidth: number;
  /** The chart to draw after an update, or undefined for none (no `.plot` to draw in, no data). */
  plan: (style: AxisStyle) => UplotPlan | undefined;
}

/**
 * A uPlot chart's life in a Lit element, shared by the page's charts: after every update the chart
 * is rebuilt in the element's `.plot` (their series change between updates, so it is not fed new
 * data), a resize observer keeps it as wide as the element, and it is destroyed when the element
 * leaves the page. Each chart keeps its own options (axes, series, draw hooks) in `plan`.
 */
export class UplotHost implements ReactiveController {
  /** The chart drawn now, if any (for exports). */
  chart: uPlot | undefined;
  private readonly resize = new ResizeObserver(() => {
    const width = this.width();
    if (this.chart && width > 0 && Math.abs(this.chart.width - width) > 1) this.chart.setSize({ width, height: this.options.height });
  });

  constructor(
    private readonly host: ReactiveElement,
    private readonly options: UplotHostOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.resize.observe(this.host);
  }

  hostDisconnected(): void {
    this.resize.disconnect();
    this.destroy();
  }

  hostUpdated(): void {
    this.destroy();
    const target = this.host.renderRoot.querySelector<HTMLElement>('.plot');
    if (!target) return;
    const plan = this.options.plan(axisStyle(this.host));
    if (!plan) return;
    const options: uPlot.Options = { ...plan.options, width: this.width() || this.options.fallbackWidth, height: this.options.height };
    this.chart = new uPlot(options, plan.data, target);
  }

  private width(): number {
    return Math.floor(this.host.getBoundingClientRect().width);
  }

  private destroy(): void {
    this.chart?.destroy();
    this.chart = undefined;
  }
}

function axisStyle(element: Element): AxisStyle {
  const style = getComputedStyle(element);
  const color = style.getPropertyValue('--muted').trim() || '#666';
  const gridColor = style.getPropertyValue('--border').trim() || '#ddd';
  return { color, gridColor, axis: { stroke: color, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } } };
}

/**
 * uPlot's stylesheet, adopted into the chart's shadow root (the page's CSS cannot reach there), and
 * the rules every chart shares: the plot's height, the box shown instead of an empty chart, the legend.
 */
export function uplotStyles(height: number, emptyHeight = 120): CSSResultGroup {
  return [
    unsafeCSS(uplotCss),
    css`
      .plot {
        min-height: ${height}px;
      }
      .empty {
        display: grid;
        place-items: center;
        min-height: ${emptyHeight}px;
        color: var(--muted);
        border: 1px dashed var(--border);
        border-radius: 6px;
      }
      .u-legend {
        font-size: 0.8rem;
        color: var(--fg);
      }
    `,
  ];
}
