// Naive attention, pass 1 of 3: S = scale · Q Kᵀ for every (query, key) pair, written to global
// memory (the N² buffer FlashAttention avoids). One invocation per score; consecutive invocations
// take consecutive keys so the stores of S are coalesced, and all of them read the same query row.
// Masked pairs get MASKED, a finite stand-in for −∞ (WGSL lets GPUs assume no infinities).

const WORKGROUP_SIZE: u32 = 64u;
const HEAD_DIM: u32 = 64u;
const MASKED: f32 = -3.0e38f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> s: array<f32>;

// Grid: x = key blocks of WORKGROUP_SIZE, y = query row, z = batch · head.
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * WORKGROUP_SIZE + lid;
  let i = wid.y;
  let bh = wid.z;
  if (j >= p.seq_k) {
    return;
  }
  let b = bh / p.heads;
  let h = bh % p.heads;
  let kv = b * p.kv_heads + h / p.group_size;
  let out = (bh * p.seq_q + i) * p.seq_k + j;
  if (p.causal != 0u && i32(j) > i32(i) + p.causal_offset) {
    s[out] = MASKED;
    return;
  }
  let q_base = (bh * p.seq_q + i) * HEAD_DIM;
  let k_base = (kv * p.seq_k + j) * HEAD_DIM;
  var acc = 0.0f;
  for (var c = 0u; c < HEAD_DIM; c++) {
    acc = fma(q[q_base + c], k[k_base + c], acc);
  }
  s[out] = acc * p.scale;
}
