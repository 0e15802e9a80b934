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
