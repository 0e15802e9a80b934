// Shape of one attention call, shared by every kernel (prepended to each shader by the harness,
// written by src/gpu/params.ts; keep the two in the same order).
struct Params {
  batch: u32,
  heads: u32,
  kv_heads: u32,
  seq_q: u32,
  seq_k: u32,
  head_dim: u32,
  causal: u32,
  // Bottom-right causal alignment: query i sees keys j <= i + causal_offset, causal_offset = seq_k - seq_q.
  causal_offset: i32,
  scale: f32,
  // scale · log2(e): kernels that use exp2 fold the change of base into the scores.
  scale_log2: f32,
  // Query heads per key/value head (heads / kv_heads).
  group_size: u32,
  _pad: u32,
}

// The (query tile, head, batch) a flash workgroup takes, from its id in the (tiles, heads, batch)
// grid. Workgroups start roughly in linear order, x fastest. Without the causal mask every tile
// costs the same and the grid is taken as it is (a head's tiles run together and share its K and V
// in L2). Under the mask a tile's work grows with its index, so the order runs over tiles, heaviest
// first, with every head and batch inside each tile: the longest workgroups of all heads start
// first and the cheapest fill the GPU at the end of the dispatch, instead of the last heads' long
// tiles starting late and running alone.
fn work_item(wid: vec3<u32>, rows_per_tile: u32) -> vec3<u32> {
  if (p.causal == 0u) {
    return wid;
  }
  let tiles = (p.seq_q + rows_per_tile - 1u) / rows_per_tile;
  let lanes = p.heads * p.batch;
  let linear = wid.x + tiles * (wid.y + p.heads * wid.z);
  let rest = linear % lanes;
  return vec3<u32>(tiles - 1u - linear / lanes, rest % p.heads, rest / p.heads);
}
