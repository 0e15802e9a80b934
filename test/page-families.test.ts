// The page's family views: the pure models behind the kvcache block map, the window/topk visited
// tiles, linear's state against a KV cache, and decode's KV memory against context length. Each
// is checked against the definitions it draws (visibility, the compaction plan, tensor sizes) or
// against numbers worked out by hand, not against a copy of its own formula.
import { describe, expect, it } from 'vitest';
import { defaultCaps } from '../src/gpu/caps.js';
import { numBlocks } from '../src/attention/kvcache/shape.js';
import { type WindowShape, visibleKeyRanges } from '../src/attention/window/shape.js';
import { type PageConfig, defaultConfig, pinTiles, shapeAt } from '../src/page/state/config.js';
import { MAX_DRAWN_BLOCKS, blockMapOf, countStates } from '../src/page/state/families/block-map.js';
import { decodeMemory, firstAbove } from '../src/page/state/families/decode-memory.js';
import { LINEAR_MAX_N, stateVsCache } from '../src/page/state/families/linear-state.js';
import { type TileGrid, causalGrid, visitedTilesOf } from '../src/page/state/families/visited-tiles.js';
import { getKernel } from '../src/attention/registry.js';

const config = (family: string, shape: Record<string, unknown> = {}, seqs?: number[]): PageConfig => {
  const base = defaultConfig(family);
  return { ...base, shape: { ...base.shape, ...shape } as PageConfig['shape'], seqs: seqs ?? base.seqs };
};

function ok<T>(result: T | { message: string }): T {
  if (typeof result === 'object' && result !== null && 'message' in result) throw new Error(`expected a model, got: ${result.message}`);
  return result as T;
}

describe('kvcache block map', () => {
  it('random eviction frees almost no block; compaction frees about half, and the drawn cells match the accounting', () => {
    const { map } = ok(blockMapOf(config('kvcache', { policy: 'random', evict: 50 }, [4096, 8192])));
    expect(map.shape.seqK).toBe(4096); // the smallest configured length
    expect(map.narrowed).toBe(false);
    expect(map.before).toHaveLength(256);
    const before = countStates(map.before);
    const after = countStates(map.after);
    expect(before.free).toBe(map.accounting.blocksFreedBeforeCompaction);
    expect(after.free).toBe(map.accounting.blocksFreedAfter);
    expect(before.free).toBeLessThanOrEqual(2);
    expect(before.partial).toBeGreaterThan(250);
    expect(after.free).toBeGreaterThan(120);
    expect(after.free).toBeLessThan(136);
    // Survivors pack into full blocks, at most one partly full block per sequence.
    expect(after.partial).toBeLessThanOrEqual(1);
    const survivors = 4096 - map.accounting.evictedTokens;
    expect(after.full).toBe(Math.floor(survivors / 16));
    // Every survivor moves except those before the first eviction: K and V, 8 kv heads of 128 f32.
    expect(map.accounting.bytesMoved % (2 * 8 * 128 * 4)).toBe(0);
    expect(map.accounting.bytesMoved).toBeGreaterThan(0.45 * 4096 * 2 * 8 * 128 * 4);
  });

  it('the window policy empties whole blocks already; compaction adds the partly full window edge', () => {
    const { map } = ok(blockMapOf(config('kvcache', { policy: 'window', sinks: 4, window: 128, blockSize: 16 }, [4096])));
    const before = countStates(map.before);
    // Blocks 0 (sinks) and the last 8 (window, aligned at 4096) hold survivors: 256 − 9 freed.
    expect(before.free).toBe(247);
    expect(before.partial).toBe(1);
    expect(before.full).toBe(8);
    // 132 survivors: 8 full blocks and one with 4 tokens.
    expect(countStates(map.after)).toEqual({ full: 8, partial: 1, free: 247, unused: 0 });
    expect(map.accounting.evictedTokens).toBe(4096 - 132);
  });

  it('a ragged batch leaves pool blocks no sequence reached: never used, before and after', () => {
    const { map } = ok(blockMapOf(config('kvcache', { batch: 3, blockSize: 64 }, [1000])));
    const s = map.shape;
    // Lengths 1000, 834, 667 (seqK − ⌊b·seqK/6⌋): 16 + 14 + 11 blocks of 48 in the pool.
    expect(map.before).toHaveLength(numBlocks(s));
    expect(countStates(map.before).unused).toBe(48 - 41);
    expect(countStates(map.after).unused).toBe(48 - 41);
  });

  it('refuses a pool too large to draw, naming the count and the cap; a wide cache is drawn from a narrow stand-in', () => {
    const big = blockMapOf(config('kvcache', { blockSize: 8, batch: 16 }, [4096]));
    expect(big).toEqual({ message: expect.stringContaining(`8192 pool blocks`) });
    expect((big as { message: string }).message).toContain(String(MAX_DRAWN_BLOCKS));
    const { map } = ok(blockMapOf(config('kvcache', { kvHeads: 64, headDim: 1024 }, [4096])));
    expect(map.narrowed).toBe(true);
    expect(countStates(map.after).free).toBe(map.accounting.blocksFreedAfter);
    // Bytes moved are for the configured width, not the stand-in's.
    expect(map.accounting.bytesMoved % (2 * 64 * 1024 * 4)).toBe(0);
  });

  it('says why there is no map for a broken shape or another family', () => {
    expect(blockMapOf(config('kvcache', { blockSize: 12 }))).toEqual({ message: expect.stringContaining('blockSize') });
    expect(blockMapOf(config('dense'))).toEqual({ message: expect.any(String) });
  });
});

/** Whether some (query, key) pair of the tile is visible under `sees`: the definition the tile walks must cover. */
function bruteForce(
  rows: number,
  cols: number,
  n: { seqQ: number; seqK: number },
  br: number,
  bc: number,
  sees: (i: number, j: number) => boolean,
): boolean[][] {
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => {
      for (let i = r * br; i < Math.min(n.seqQ, (r + 1) * br); i++) for (let j = c * bc; j < Math.min(n.seqK, (c + 1) * bc); j++) if (sees(i, j)) return true;
      return false;
    }),
  );
}

const windowSees = (s: WindowShape) => (i: number, j: number) => {
  const r = visibleKeyRanges(s, i);
  return j < r.sinkEnd || (j >= r.windowStart && j < r.end);
};

const cells = (g: TileGrid) => g.visited.flat().filter(Boolean).length;

describe('visited tiles', () => {
  it('window: the kernel visits exactly the tiles holding a visible pair, at the pinned Br×Bc and the smallest length (capped at 512)', () => {
    const c = pinTiles(config('window', { window: 100, sinks: 4 }, [1024, 2048]), 'window-flash', {
      ...getKernel('window-flash').defaultTiles(shapeAt(config('window'), 512), defaultCaps()),
      br: 16,
      bc: 32,
    });
    const { tiles } = ok(visitedTilesOf(c, defaultCaps()));
    expect(tiles).toMatchObject({ n: 512, br: 16, bc: 32 });
    const s = shapeAt(c, 512) as WindowShape;
    const [win, dense] = tiles.grids;
    expect(win.visited).toHaveLength(32);
    expect(win.visited[0]).toHaveLength(16);
    expect(win.visited).toEqual(bruteForce(32, 16, s, 16, 32, windowSees(s)));
    expect(dense.visited).toEqual(bruteForce(32, 16, s, 16, 32, (i, j) => j <= i));
    // Window 100 + sinks: at most ⌈(100 + 15)/32⌉ + 1 + 1 = 6 key tiles per query tile, of 16.
    expect(Math.max(...win.visited.map((row) => row.filter(Boolean).length))).toBeLessThanOrEqual(6);
    expect(win.fraction).toBeLessThan(0.6 * dense.fraction);
    // Pairs: every row sees min(i + 1, 100) window keys plus the sinks before its window.
    let pairs = 0;
    for (let i = 0; i < 512; i++) pairs += Math.min(i + 1, 100) + Math.min(4, Math.max(0, i + 1 - 100));
    expect(tiles.pairFraction).toBeCloseTo(pairs / ((512 * 513) / 2));
    expect(dense.fraction).toBeCloseTo(cells(dense) / (32 * 16));
  });

  it('window: 32×32 tiles unless the kernel’s tiles are pinned (its device default can be one query tile tall)', () => {
    const { tiles } = ok(visitedTilesOf(config('window', {}, [256]), defaultCaps()));
    expect(tiles).toMatchObject({ br: 32, bc: 32 });
    expect(tiles.grids[0].visited).toHaveLength(8);
    expect(tiles.tileSource).toContain('default here is');
  });

  it('window: a query block shorter than the keys is aligned bottom-right, in both grids', () => {
    const c = config('window', { seqQ: 40, window: 64, sinks: 0 }, [300]);
    const { tiles } = ok(visitedTilesOf(c, defaultCaps()));
    const s = shapeAt(c, 300) as WindowShape;
    const [win, dense] = tiles.grids;
    const rows = Math.ceil(40 / tiles.br);
    const cols = Math.ceil(300 / tiles.bc);
    expect(win.visited).toEqual(bruteForce(rows, cols, s, tiles.br, tiles.bc, windowSees(s)));
    expect(dense.visited).toEqual(bruteForce(rows, cols, s, tiles.br, tiles.bc, (i, j) => j <= i + 260));
  });

  it('causal dense at length 1 is one visited tile', () => {
    expect(causalGrid({ seqQ: 1, seqK: 1 }, 32, 32).visited).toEqual([[true]]);
  });

  it('topk: selected tiles lie under the diagonal, cover it where topK ≥ i + 1, and equal causal dense when topK ≥ N', () => {
    const small = { heads: 2, kvHeads: 1, headDim: 8, indexHeads: 2, indexDim: 8 };
    const { tiles } = ok(visitedTilesOf(config('topk', { ...small, topK: 8 }, [256, 512]), defaultCaps()));
    expect(tiles).toMatchObject({ n: 256, br: 32, bc: 32 });
    const [sel, dense] = tiles.grids;
    expect(sel.visited.every((row, r) => row.every((on, c) => !on || dense.visited[r]![c]))).toBe(true);
    // Query 0..7 select every key up to themselves: tile (0, 0) is visited.
    expect(sel.visited[0]![0]).toBe(true);
    // Sparse in pairs (8 of ~128 keys per query on average), hardly in tiles: 32 queries of a tile
    // picking 8 keys each hit nearly every tile of the triangle.
    expect(tiles.pairFraction).toBeCloseTo((36 + 248 * 8) / ((256 * 257) / 2));
    expect(sel.fraction).toBeLessThanOrEqual(dense.fraction);
    expect(sel.fraction).toBeGreaterThan(0.8 * dense.fraction);
    const all = ok(visitedTilesOf(config('topk', { ...small, topK: 300 }, [100]), defaultCaps())).tiles;
    expect(all.grids[0].visited).toEqual(all.grids[1].visited);
    expect(all.pairFraction).toBe(1);
  });

  it('topk with one key per query leaves part of the causal triangle untouched', () => {
    const { tiles } = ok(visitedTilesOf(config('topk', { heads: 1, kvHeads: 1, headDim: 4, indexHeads: 1, indexDim: 4, topK: 1 }, [512]), defaultCaps()));
    expect(tiles.grids[0].fraction).toBeLessThan(tiles.grids[1].fraction);
  });
});

describe('linear: state vs KV cache', () => {
  it('defaults (4 heads, dk = dv = 64, f32): a 64 KiB state against 2 KiB of K and V per token, equal at 32 tokens', () => {
    const { model } = ok(stateVsCache(config('linear')));
    expect(model.stateBytes).toBe(4 * 64 * 64 * 4);
    expect(model.kvBytesPerToken).toBe(4 * (64 + 64) * 4);
    expect(model.crossover).toBe(32);
    expect(model.ns).toContain(32);
    expect(model.ns[0]).toBeLessThan(32);
    expect(model.ns[model.ns.length - 1]).toBe(LINEAR_MAX_N);
    expect(model.ns).toContain(1024);
    expect(model.kvBytes[model.ns.indexOf(LINEAR_MAX_N)]).toBe(2 ** 20 * 2048);
    expect(model.kvBytes[model.ns.indexOf(32)]).toBe(model.stateBytes);
    for (let i = 1; i < model.kvBytes.length; i++) expect(model.kvBytes[i]).toBeGreaterThan(model.kvBytes[i - 1]!);
  });

  it('f16 storage halves the cache, not the f32 state; unequal dims use dk + dv per token; batch does not count', () => {
    const f16 = ok(stateVsCache(config('linear', { storage: 'f16', batch: 8 }))).model;
    expect(f16.stateBytes).toBe(4 * 64 * 64 * 4);
    expect(f16.kvBytesPerToken).toBe(4 * 128 * 2);
    expect(f16.crossover).toBe(64);
    const wide = ok(stateVsCache(config('linear', { heads: 2, dk: 128, dv: 256 }))).model;
    expect(wide.stateBytes).toBe(2 * 128 * 256 * 4);
    expect(wide.crossover).toBeCloseTo((128 * 256 * 4) / ((128 + 256) * 4));
  });
});

describe('decode: KV memory vs context length', () => {
  it('defaults (32 heads over 8 KV heads, d 128): 8 KiB per token in f32, 4 KiB in f16; one K buffer passes the default limits where it reaches them', () => {
    const { model } = ok(decodeMemory(config('decode'), defaultCaps()));
    const [f32, f16] = model.curves;
    expect(f32!.kvType).toBe('f32');
    expect(f32!.bytesPerToken).toBe(2 * 8 * 128 * 4);
    expect(f16!.bytesPerToken).toBe(2 * 8 * 128 * 2);
    // K alone: 4 KiB per token in f32; 128 MiB / 4 KiB = 32768 tokens fit, the next does not.
    expect(f32!.limitN).toEqual({ maxStorageBufferBindingSize: 32769, maxBufferSize: 65537 });
    expect(f16!.limitN).toEqual({ maxStorageBufferBindingSize: 65537, maxBufferSize: 131073 });
    expect(model.ns).toContain(32769);
    expect(model.ns[0]).toBe(1024);
    expect(model.ns[model.ns.length - 1]).toBe(262144);
    expect(f32!.bytes[model.ns.indexOf(1024)]).toBe(1024 * 8192);
  });

  it('a larger batch reaches the limit sooner; a device with larger limits later or not at all', () => {
    const batch = ok(decodeMemory(config('decode', { batch: 4 }), defaultCaps())).model;
    expect(batch.curves[0]!.limitN.maxStorageBufferBindingSize).toBe(8193);
    // Per sequence, the bytes do not change with the batch.
    expect(batch.curves[0]!.bytesPerToken).toBe(8192);
    const big = ok(decodeMemory(config('decode'), defaultCaps({ limits: { maxStorageBufferBindingSize: 2 ** 34, maxBufferSize: 2 ** 34 } as never }))).model;
    expect(big.curves[1]!.limitN).toEqual({ maxStorageBufferBindingSize: null, maxBufferSize: null });
    expect(big.ns[big.ns.length - 1]).toBe(big.maxN);
  });

  it('the paged layout counts its spare blocks: the limit comes no later than contiguous', () => {
    const paged = ok(decodeMemory(config('decode', { layout: 'paged' }), defaultCaps())).model;
    expect(paged.curves[0]!.limitN.maxStorageBufferBindingSize!).toBeLessThanOrEqual(32769);
  });

  it('firstAbove finds the first length past a limit, or null', () => {
    expect(firstAbove((n) => 3 * n, 30, 100)).toBe(11);
    expect(firstAbove((n) => 3 * n, 300, 100)).toBeNull();
    expect(firstAbove((n) => 3 * n, 0, 100)).toBe(1);
  });
});
