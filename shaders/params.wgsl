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

// The query tile a flash workgroup takes. Workgroups start in dispatch order (x fastest) and, under
// the causal mask, a tile's work grows with its index: handing out the last tiles first leaves the
// cheapest ones to fill the GPU at the end of the dispatch instead of one long tile running alone.
fn query_tile(wid_x: u32, rows_per_tile: u32) -> u32 {
  let count = (p.seq_q + rows_per_tile - 1u) / rows_per_tile;
  return select(wid_x, count - 1u - wid_x, p.causal != 0u);
}
