// Shape of one decode call (written by params.ts in this order).
struct Params {
  batch: u32,
  heads: u32,
  kv_heads: u32,
  seq_q: u32,
  seq_k: u32,
  // Query heads per kv head.
  group: u32,
  // Query rows of one kv head: group · seq_q.
  rows: u32,
  // Splits per sequence in the dispatch: ceil(seq_k / CHUNK).
  splits: u32,
  // Workgroups per (split, kv head, sequence), each taking ROWS of the group's rows.
  row_tiles: u32,
  // Block-table slots per sequence (paged).
  table_slots: u32,
  // scale · log2(e): scores feed exp2.
  scale_log2: f32,
  // Workgroups along x of the merge grid.
  merge_grid_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// Finite stand-ins for −∞ (WGSL leaves infinities undefined): masked scores, and the running max
// before any key; exp2 of their difference from a real score is exactly 0.
const MASKED: f32 = -3.0e38;
const NO_KEY: f32 = -1.0e30;
