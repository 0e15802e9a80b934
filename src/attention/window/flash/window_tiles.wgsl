// The key tiles of the window flash kernels and their mask: what distinguishes them from dense
// causal flash. The window kernels compose the dense flash shader (../../dense/flash/flash.wgsl,
// f32 or f16; window-flash-mma: ../../dense/flash-mma/flash_mma.wgsl with its hooks on) with this
// file in place of its dense twin, ../../dense/flash/mask_causal.wgsl, whose hooks (key_tiles,
// key_tile_start, tile_needs_mask, key_hidden, flash_work_item) these replace.
// Composed after params.wgsl (Params, p) beside a kernel that declares BC (keys per tile).
// TypeScript twin: keyTiles / keyTileStart in src/attention/window/shape.ts.
//
// Query at position pos (= row + causal_offset) sees key j when j <= pos and either
// j > pos - window (its recent window) or j < sinks (the attention sinks).

struct WindowParams {
  window: u32,
  sinks: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(5) var<uniform> wp: WindowParams;

// A workgroup's tiles: first the sink tiles 0 .. sink_tiles - 1, then the window tiles
// window_first, window_first + 1, ... up to the diagonal of its last row; count in all.
// Work per workgroup is O(sinks + window + BR) keys whatever the sequence length.
struct KeyTiles {
  sink_tiles: u32,
  window_first: u32,
  count: u32,
}

fn key_tiles(row0: u32, row_end: u32) -> KeyTiles {
  // Keys below k_end: up to the diagonal of the last row (causal); from window_low: the window of
  // the first row (the lowest window start of the tile).
  let k_end = u32(clamp(i32(row_end) + p.causal_offset, 0, i32(p.seq_k)));
  let sink_tiles = (min(wp.sinks, k_end) + BC - 1u) / BC;
  let window_low = u32(max(i32(row0) + p.causal_offset - i32(wp.window) + 1, 0));
  // Window tiles start after the sink tiles, so a tile holding both is visited once.
  let window_first = max(sink_tiles, window_low / BC);
  let window_last = (k_end + BC - 1u) / BC;
  return KeyTiles(sink_tiles, window_first, sink_tiles + select(0u, window_last - window_first, window_last > window_first));
}

// First key of the t-th tile the workgroup visits.
fn key_tile_start(tiles: KeyTiles, t: u32) -> u32 {
  return select(tiles.window_first + t - tiles.sink_tiles, t, t < tiles.sink_tiles) * BC;
}

// Whether a tile of keys [k0, k0 + BC) needs the element-wise mask for rows row0 ..= row_last:
// it runs past the end of K, crosses the diagonal of the first row, or reaches below the window of
// the last row (whose window starts highest) with keys that are not sinks. Uniform over the
// workgroup; most tiles of a long window need no mask.
fn tile_needs_mask(k0: u32, row0: u32, row_last: u32) -> bool {
  let past_end = k0 + BC > p.seq_k;
  let on_diagonal = i32(k0 + BC - 1u) > i32(row0) + p.causal_offset;
  let below_window = i32(k0) <= i32(row_last) + p.causal_offset - i32(wp.window) && k0 + BC > wp.sinks;
  return past_end || on_diagonal || below_window;
}

// Whether the query at `pos` must not see `key`.
fn key_hidden(key: u32, pos: i32) -> bool {
  let j = i32(key);
  return key >= p.seq_k || j > pos || (j <= pos - i32(wp.window) && key >= wp.sinks);
}

// The grid as it is (x: query tile, fastest), not params.wgsl's work_item: every full-window tile
// costs the same, and neighbouring tiles of one head read nearly the same window of K and V, so
// running them together keeps that window in L2 (tile-major order across heads would not).
fn flash_work_item(wid: vec3<u32>) -> vec3<u32> {
  return wid;
}
