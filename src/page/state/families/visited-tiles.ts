import type { DeviceCaps } from '../../../gpu/caps.js';
import { getKernel } from '../../../attention/registry.js';
import { topkProblem } from '../../../attention/topk/problems.js';
import { type IndexerTensors, indexScores, selectTopK } from '../../../attention/topk/reference.js';
import { type TopkShape, causalPairs, selectedPairs } from '../../../attention/topk/shape.js';
import { unmaskedPairsPerHead } from '../../../attention/dense/shape.js';
import { type WindowShape, keyTileStart, keyTiles, visiblePairsPerHead } from '../../../attention/window/shape.js';
import { type PageConfig, SEED, effectiveTiles, shapeAt, shapeProblem } from '../config.js';

/** The grid is drawn at the smallest configured length, at most this long: tiles stay visible cells. */
export const MAX_TILE_GRID_N = 512;
/** topk's square tile (no kernel of the family tiles the score matrix), and window's unless tiles are pinned. */
export const TOPK_TILE = 32;
export const WINDOW_TILE = 32;

/** Which (query tile, key tile) cells one pass visits: `visited[r][c]` for query tile r and key tile c. */
export interface TileGrid {
  label: string;
  visited: boolean[][];
  /** Visited cells over all cells of the grid. */
  fraction: number;
}

export interface VisitedTiles {
  /** Length the grid is drawn at (the smallest configured one, capped at MAX_TILE_GRID_N). */
  n: number;
  seqQ: number;
  br: number;
  bc: number;
  /** Where the tile size came from, read after "Br×Bc": e.g. "window-flash's pinned tiles". */
  tileSource: string;
  /** The family's grid (window kernel or topk selection) beside the causal dense one. */
  grids: [TileGrid, TileGrid];
  /**
   * (query, key) pairs the family computes over those causal dense computes, per head: what the
   * tile fraction is to be read against (top-k is sparse in pairs, hardly at all in tiles).
   */
  pairFraction: number;
  /** Anything the reader should know about how the grid was made. */
  note?: string;
}

/** topk: past this many input elements the selection is drawn from a batch-1 stand-in (the seeded stream differs). */
export const MAX_TOPK_INPUT_ELEMENTS = 1 << 24;

export type VisitedTilesResult = { tiles: VisitedTiles } | { message: string };

export function visitedTilesOf(config: PageConfig, caps: DeviceCaps): VisitedTilesResult {
  if (config.family !== 'window' && config.family !== 'topk') return { message: `no tile view for ${config.family}` };
  const problem = shapeProblem(config);
  if (problem) return { message: problem };
  const n = Math.min(MAX_TILE_GRID_N, ...config.seqs);
  if (config.family === 'window') {
    const shape = shapeAt(config, n) as WindowShape;
    // The first selected window kernel with a Br×Bc tiling (or the f32 one): its pinned Br×Bc when the user pinned
    // them, else 32×32. Its device default can be as tall as the whole short grid (Br 256 at
    // N = 256 is one query tile), which would hide the band this view is for.
    // window-flash-mma has no Br tunable (its rows follow the device's matrix shape): the first
    // selected kernel that has one, else window-flash.
    const kernel = getKernel(config.kernels.find((name) => getKernel(name).tunables.some((t) => t.key === 'br')) ?? 'window-flash');
    const own = effectiveTiles(kernel, config, caps, shape);
    const pinned = config.tiles[kernel.name] !== undefined;
    const br = pinned ? own.br! : WINDOW_TILE;
    const bc = pinned ? own.bc! : WINDOW_TILE;
    const pairFraction = visiblePairsPerHead(shape) / unmaskedPairsPerHead(shape);
    return {
      tiles: {
        n,
        seqQ: shape.seqQ,
        br,
        bc,
        tileSource: pinned ? `${kernel.name}'s pinned tiles` : `tiles (${kernel.name}'s default here is ${own.br}×${own.bc}; pin tiles to draw with them)`,
        grids: [windowGrid(shape, br, bc), causalGrid(shape, br, bc)],
        pairFraction,
      },
    };
  }
  const configured = shapeAt(config, n) as TopkShape;
  const narrowed = topkInputElements(configured) > MAX_TOPK_INPUT_ELEMENTS;
  const shape = narrowed ? { ...configured, batch: 1 } : configured;
  const causal = { seqQ: shape.seqK, seqK: shape.seqK };
  return {
    tiles: {
      n,
      seqQ: shape.seqK,
      br: TOPK_TILE,
      bc: TOPK_TILE,
      tileSource: 'tiles',
      grids: [topkGrid(shape, TOPK_TILE), causalGrid(causal, TOPK_TILE, TOPK_TILE)],
      pairFraction: selectedPairs(shape) / causalPairs(0, shape.seqK),
      ...(narrowed
        ? { note: `the seeded inputs of batch ${configured.batch} are too large to draw here; the selection is that of a batch-1 cache of the same sizes` }
        : {}),
    },
  };
}

function topkInputElements(s: TopkShape): number {
  return topkProblem
    .tensors(s)
    .filter((t) => t.role === 'input')
    .reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
}

function grid(label: string, rows: number, cols: number, visit: (r: number, mark: (c: number) => void) => void): TileGrid {
  const visited = Array.from({ length: rows }, () => new Array<boolean>(cols).fill(false));
  for (let r = 0; r < rows; r++) visit(r, (c) => (visited[r]![c] = true));
  const hits = visited.reduce((sum, row) => sum + row.filter(Boolean).length, 0);
  return { label, visited, fraction: rows * cols === 0 ? 0 : hits / (rows * cols) };
}

/** The key tiles the window kernel's workgroup for each query tile visits: keyTiles, as window_tiles.wgsl computes them. */
export function windowGrid(s: WindowShape, br: number, bc: number): TileGrid {
  return grid(`window ${s.window} + ${s.sinks} sinks`, Math.ceil(s.seqQ / br), Math.ceil(s.seqK / bc), (r, mark) => {
    const tiles = keyTiles(s, r * br, Math.min(s.seqQ, (r + 1) * br), bc);
    for (let t = 0; t < tiles.count; t++) mark(keyTileStart(tiles, t, bc) / bc);
  });
}

/**
 * Causal dense flash: every key tile up to each query tile's diagonal. That is the window kernel's
 * own tile walk with a window longer than the keys and no sinks, so the two grids share one rule.
 */
export function causalGrid(s: Pick<WindowShape, 'seqQ' | 'seqK'>, br: number, bc: number): TileGrid {
  const unbounded = { ...s, window: s.seqK + s.seqQ, sinks: 0 } as WindowShape;
  return { ...windowGrid(unbounded, br, bc), label: 'causal dense' };
}

/**
 * Tiles holding at least one key some query of the tile selects, from the float64 reference
 * selection (indexer scores, then top-k) of the seeded inputs, batch 0.
 */
export function topkGrid(s: TopkShape, tile: number): TileGrid {
  const inputs = topkProblem.inputs(s, SEED);
  const indexer = { indexQ: inputs.indexQ, indexK: inputs.indexK, indexW: inputs.indexW } as IndexerTensors;
  return grid(`top-${s.topK} selection`, Math.ceil(s.seqK / tile), Math.ceil(s.seqK / tile), (r, mark) => {
    for (let i = r * tile; i < Math.min(s.seqK, (r + 1) * tile); i++) {
      for (const j of selectTopK(indexScores(s, indexer, 0, i), i + 1, s.topK)) if (j >= 0) mark(Math.floor(j / tile));
    }
  });
}
