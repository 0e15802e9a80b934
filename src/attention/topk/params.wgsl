// Shape and block of one top-k stage dispatch (written by params.ts; keep the two in the same order).
struct Params {
  batch: u32,
  heads: u32,
  kv_heads: u32,
  // N: queries and keys.
  seq: u32,
  head_dim: u32,
  top_k: u32,
  index_heads: u32,
  index_dim: u32,
  // Queries of this block: query_start .. query_start + rows − 1, row r of the score buffer.
  rows: u32,
  query_start: u32,
  // Selected indices of row r go to output row out_row_start + r of out_rows rows per batch element.
  out_row_start: u32,
  out_rows: u32,
  // Query heads per key/value head.
  group_size: u32,
  _pad0: u32,
  _pad1: u32,
  // scale · log2(e): the attention stage uses exp2.
  scale_log2: f32,
}
