import type { ChartSeries } from '../state/chart-spec.js';

/**
 * The chart's canvas (plot and axes, as uPlot drew it) with its title above and its legend below
 * on a white ground: uPlot builds the title and legend in the DOM, which a canvas copy would lose.
 */
export function composeChartPng(plot: HTMLCanvasElement, title: string, series: readonly ChartSeries[], ratio: number): HTMLCanvasElement {
  const out = document.createElement('canvas');
  const ctx = out.getContext('2d')!;
  const font = (px: number, weight = '') => `${weight} ${px * ratio}px sans-serif`.trim();
  const pad = 8 * ratio;
  const titleH = 26 * ratio;
  const rowH = 18 * ratio;
  // Lay the legend out in rows that wrap at the plot's width.
  ctx.font = font(12);
  const entries: { x: number; row: number; s: ChartSeries }[] = [];
  let x = pad;
  let row = 0;
  for (const s of series) {
    const width = 30 * ratio + ctx.measureText(s.label).width + 14 * ratio;
    if (x + width > plot.width && x > pad) {
      x = pad;
      row++;
    }
    entries.push({ x, row, s });
    x += width;
  }
  const legendH = (entries.length === 0 ? 0 : row + 1) * rowH + pad;
  out.width = plot.width;
  out.height = titleH + plot.height + legendH;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#222222';
  ctx.font = font(14, '600');
  ctx.textBaseline = 'middle';
  ctx.fillText(title, pad, titleH / 2);
  ctx.drawImage(plot, 0, titleH);
  ctx.font = font(12);
  for (const e of entries) {
    const y = titleH + plot.height + pad / 2 + e.row * rowH + rowH / 2;
    ctx.strokeStyle = e.s.color;
    ctx.lineWidth = 2 * ratio;
    ctx.setLineDash(e.s.dashed ? [6 * ratio, 4 * ratio] : []);
    ctx.beginPath();
    ctx.moveTo(e.x, y);
    ctx.lineTo(e.x + 22 * ratio, y);
    ctx.stroke();
    ctx.fillStyle = '#222222';
    ctx.fillText(e.s.label, e.x + 28 * ratio, y);
  }
  return out;
}
