// Naive attention, pass 3 of 3: O = P V. One invocation per output element; consecutive
// invocations take consecutive head-dim columns, so reads of V and stores of O are coalesced and
// all invocations of a workgroup read the same row of P.

const WORKGROUP_SIZE: u32 = 64u;
const HEAD_DIM: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;

// Grid: x = column blocks of WORKGROUP_SIZE, y = query row, z = batch · head.
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x * WORKGROUP_SIZE + lid;
  let i = wid.y;
  let bh = wid.z;
  if (c >= HEAD_DIM) {
    return;
  }
  let b = bh / p.heads;
  let h = bh % p.heads;
  let kv = b * p.kv_heads + h / p.group_size;
  let p_base = (bh * p.seq_q + i) * p.seq_k;
  let v_base = kv * p.seq_k * HEAD_DIM + c;
  var acc = 0.0f;
  for (var j = 0u; j < p.seq_k; j++) {
    acc = fma(probs[p_base + j], v[v_base + j * HEAD_DIM], acc);
  }
  o[(bh * p.seq_q + i) * HEAD_DIM + c] = acc;
}
