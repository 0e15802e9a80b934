// Naive attention, pass 2 of 3: row softmax of S into P, both N² buffers in global memory.
// One invocation per row (an invocation per element would recompute each row's max and sum N
// times). Max-subtracted for stability; max and sum are found in one online pass over S, then a
// second pass writes P, so S is read twice and P written once. A row with every key masked (causal,
// seq_q > seq_k) gets P = 0, hence O = 0.

const WORKGROUP_SIZE: u32 = 64u;
const MASKED: f32 = -3.0e38f;
// Anything at or below this is a masked score (real scores are nowhere near ±1e38).
const MASKED_LIMIT: f32 = -1.0e38f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;

// Grid: rows of all heads, WORKGROUP_SIZE per workgroup, spread over x then y (x is capped at
// maxComputeWorkgroupsPerDimension).
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * groups.x + wid.x) * WORKGROUP_SIZE + lid;
  if (row >= p.batch * p.heads * p.seq_q) {
    return;
  }
  let base = row * p.seq_k;
  var m = MASKED;
  var l = 0.0f;
  for (var j = 0u; j < p.seq_k; j++) {
    let x = s[base + j];
    if (x > m) {
      l = l * exp(m - x);
      m = x;
    }
    if (x > MASKED_LIMIT) {
      l += exp(x - m);
    }
  }
  let inv = select(0.0f, 1.0f / l, l > 0.0f);
  for (var j = 0u; j < p.seq_k; j++) {
    let x = s[base + j];
    probs[base + j] = select(0.0f, exp(x - m) * inv, x > MASKED_LIMIT);
  }
}
