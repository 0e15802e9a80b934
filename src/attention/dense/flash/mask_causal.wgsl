// The key tiles of dense flash attention (flash.wgsl, ../flash-mma/flash_mma.wgsl) and their mask:
// every key tile, or with the causal mask those up to the diagonal of the workgroup's last row.
// Composed after params.wgsl (Params, p, work_item) beside a kernel that declares BR and BC (query
// rows and keys per tile). The window family's twin is ../../window/flash/window_tiles.wgsl.

// The workgroup visits tiles 0 .. count - 1.
struct KeyTiles {
  count: u32,
}

fn key_tiles(row0: u32, row_end: u32) -> KeyTiles {
  var k_end = p.seq_k;
  if (p.causal != 0u) {
    // Bottom-right aligned: the last row sees keys up to row_end - 1 + causal_offset.
    k_end = u32(clamp(i32(row_end) + p.causal_offset, 0, i32(p.seq_k)));
  }
  return KeyTiles((k_end + BC - 1u) / BC);
}

fn key_tile_start(key_set: KeyTiles, t: u32) -> u32 {
  return t * BC;
}

// Only tiles past the end of K or crossing the causal diagonal of the first row need the
// element-wise mask.
fn tile_needs_mask(k0: u32, row0: u32, row_last: u32) -> bool {
  let past_end = k0 + BC > p.seq_k;
  let on_diagonal = p.causal != 0u && i32(k0 + BC - 1u) > i32(row0) + p.causal_offset;
  return past_end || on_diagonal;
}

fn key_hidden(key: u32, pos: i32) -> bool {
  return key >= p.seq_k || (p.causal != 0u && i32(key) > pos);
}

// params.wgsl's order: the grid as it is, or under the causal mask heaviest tiles first.
fn flash_work_item(wid: vec3<u32>) -> vec3<u32> {
  return work_item(wid, BR);
}
