import type { ResolvedShape } from '../dense/shape.js';

/**
 * A sliding-window attention call: a dense causal shape (bottom-right aligned: query i sits at
 * absolute position pos = i + (seqK − seqQ)) plus the window and the attention sinks. Query i sees
 * key j when j ≤ pos and either j > pos − window (the recent window, itself included) or j < sinks
 * (the first keys, which StreamingLLM keeps as "attention sinks"). Sinks stay causal: a sink key
 * after the query's position is not seen.
 */
export interface WindowShape extends ResolvedShape {
  causal: true;
  /** Keys of the recent window, the query's own position included (1: itself only). */
  window: number;
  /** Leading keys every later query sees, whatever the window. */
  sinks: number;
}

/** The keys one query row sees, as two half-open ranges: the sinks [0, sinkEnd) and the window [windowStart, end). */
export interface VisibleKeys {
  sinkEnd: number;
  windowStart: number;
  end: number;
}

/** The keys query row i (0-based) sees; both ranges empty for a row before the first key (seqQ > seqK). */
export function visibleKeyRanges(s: WindowShape, i: number): VisibleKeys {
  const pos = i + s.seqK - s.seqQ;
  if (pos < 0) return { sinkEnd: 0, windowStart: 0, end: 0 };
  const end = pos + 1;
  const sinkEnd = Math.min(s.sinks, end);
  // The window starts after the sinks so that no key is counted twice.
  const windowStart = Math.max(sinkEnd, pos - s.window + 1);
  return { sinkEnd, windowStart, end };
}

/** Number of keys query row i sees. */
export function visibleCount(s: WindowShape, i: number): number {
  const r = visibleKeyRanges(s, i);
  return r.sinkEnd + Math.max(0, r.end - r.windowStart);
}

/**
 * Visible (query, key) pairs of one head: the work any exact kernel must do. One pass over the
 * rows (every head has the same mask), a few milliseconds at seqQ = 4M.
 */
export function visiblePairsPerHead(s: WindowShape): number {
  let total = 0;
  for (let i = 0; i < s.seqQ; i++) total += visibleCount(s, i);
  return total;
}

/** Keys some query row sees (each once), as ranges: the K and V rows any kernel must read. */
export function touchedKeys(s: WindowShape): number {
  const offset = s.seqK - s.seqQ;
  const firstRow = Math.max(0, -offset); // the first row that sees a key
  if (firstRow >= s.seqQ) return 0;
  const last = visibleKeyRanges(s, s.seqQ - 1);
  // Rows' windows slide one key per row, so their union runs from the first seeing row's window start
  // to the last row's diagonal; the sinks are the last row's (they only grow along the rows).
  const windowStart = Math.max(last.sinkEnd, firstRow + offset - s.window + 1);
  return last.sinkEnd + Math.max(0, last.end - windowStart);
}

/**
 * The key tiles of `bc` keys a workgroup of query rows [row0, rowEnd) visits: the tiles holding
 * sinks, then the tiles from the one where the first row's window starts (or the first tile after
 * the sinks) to the diagonal of the last row. The shader (window_tiles.wgsl) computes the same.
 */
export interface KeyTiles {
  sinkTiles: number;
  windowFirst: number;
  count: number;
}

export function keyTiles(s: WindowShape, row0: number, rowEnd: number, bc: number): KeyTiles {
  const offset = s.seqK - s.seqQ;
  const kEnd = Math.max(0, Math.min(s.seqK, rowEnd + offset));
  const sinkTiles = Math.ceil(Math.min(s.sinks, kEnd) / bc);
  const windowLow = Math.max(0, row0 + offset - s.window + 1);
  const windowFirst = Math.max(sinkTiles, Math.floor(windowLow / bc));
  const windowLast = Math.ceil(kEnd / bc);
  return { sinkTiles, windowFirst, count: sinkTiles + Math.max(0, windowLast - windowFirst) };
}

/** First key of the t-th tile a workgroup visits. */
export function keyTileStart(tiles: KeyTiles, t: number, bc: number): number {
  return (t < tiles.sinkTiles ? t : tiles.windowFirst + (t - tiles.sinkTiles)) * bc;
}

/** A compact label such as "B1 H16 N131072 d128 window 4096 sinks 4". */
export function windowLabel(s: WindowShape, denseLabel: string): string {
  return `${denseLabel.replace(/ causal$/, '')} window ${s.window} sinks ${s.sinks}`;
}
