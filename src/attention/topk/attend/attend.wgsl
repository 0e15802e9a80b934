// Attention over selected keys: o(h, i) = softmax(scale · q(h, i) · K[sel(i)]ᵀ) · V[sel(i)].
//
// One workgroup per (query, HPW query heads of one key/value head, batch): the selection is shared
// by every head of a query (as in DSA), so each gathered K and V row is loaded once into workgroup
// memory and used by HPW heads. Keys go in chunks of TK: gather the chunk's K rows (vec4 loads of
// whole rows, −1 slots as zeros), HPW × TK scores, an online-softmax update per head (exp2 with
// log2(e) folded into the query scale, f32 statistics), then the chunk's V rows into the same
// buffer and O += P·V with invocation (column vec4, head lane) owning HPT heads' accumulators.
// Consecutive workgroups take the heads of one query, then the next query: they gather the same
// rows, which L2 then serves.

const WG: u32 = 128u;
const HEAD_DIM: u32 = 64u;
const D4: u32 = 16u;
const HPW: u32 = 4u;
const TK: u32 = 16u;
// Head lanes: invocations per column vec4; HPT: heads each invocation accumulates.
const LANES: u32 = 8u;
const HPT: u32 = 1u;
const MASKED: f32 = -3.0e38f;
const MASKED_LIMIT: f32 = -1.0e38f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> indices: array<i32>;
@group(0) @binding(5) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> q_rows: array<vec4<f32>, HPW * D4>;
var<workgroup> kv_rows: array<vec4<f32>, TK * D4>;
var<workgroup> probs: array<f32, HPW * TK>;
var<workgroup> slot_key: array<i32, TK>;
var<workgroup> row_max: array<f32, HPW>;
var<workgroup> row_sum: array<f32, HPW>;
var<workgroup> rescale: array<f32, HPW>;

// Grid: (query, head group, batch) flattened, x fastest then y (x is capped per dimension).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let head_groups = p.heads / HPW;
  let linear = wid.x + wid.y * groups.x;
  if (linear >= head_groups * p.seq * p.batch) {
    return;
  }
  let h0 = (linear % head_groups) * HPW;
  let i = (linear / head_groups) % p.seq;
  let b = linear / (head_groups * p.seq);
  let kv_head = b * p.kv_heads + h0 / p.group_size;
  let index_row = (b * p.seq + i) * p.top_k;

  for (var t = lid; t < HPW * D4; t += WG) {
    let hh = t / D4;
    q_rows[t] = q[((b * p.heads + h0 + hh) * p.seq + i) * D4 + t % D4] * p.scale_log2;
  }
  if (lid < HPW) {
    row_max[lid] = -1.0e30f;
    row_sum[lid] = 0.0f;
  }
  let c4 = lid % D4;
  let lane = lid / D4;
  var acc: array<vec4<f32>, HPT>;
  for (var e = 0u; e < HPT; e++) {
    acc[e] = vec4<f32>(0.0f);
  }

  for (var t0 = 0u; t0 < p.top_k; t0 += TK) {
    workgroupBarrier();
    if (lid < TK) {
      slot_key[lid] = select(-1, indices[index_row + min(t0 + lid, p.top_k - 1u)], t0 + lid < p.top_k);
    }
    workgroupBarrier();
    for (var t = lid; t < TK * D4; t += WG) {
      let j = slot_key[t / D4];
      var row = vec4<f32>(0.0f);
      if (j >= 0) {
        row = k[(kv_head * p.seq + u32(j)) * D4 + t % D4];
      }
      kv_rows[t] = row;
    }
    workgroupBarrier();
    for (var t = lid; t < HPW * TK; t += WG) {
      let hh = t / TK;
      let s = t % TK;
      var dot = vec4<f32>(0.0f);
      for (var c = 0u; c < D4; c++) {
        dot = fma(q_rows[hh * D4 + c], kv_rows[s * D4 + c], dot);
      }
      probs[t] = select(MASKED, dot.x + dot.y + dot.z + dot.w, slot_key[s] >= 0);
    }
    workgroupBarrier();
    if (lid < HPW) {
      let old_max = row_max[lid];
      var new_max = old_max;
      for (var s = 0u; s < TK; s++) {
        new_max = max(new_max, probs[lid * TK + s]);
      }
      let alpha = exp2(old_max - new_max);
      var sum = row_sum[lid] * alpha;
      for (var s = 0u; s < TK; s++) {
        let x = probs[lid * TK + s];
        let pr = select(0.0f, exp2(x - new_max), x > MASKED_LIMIT);
        probs[lid * TK + s] = pr;
        sum += pr;
      }
      row_max[lid] = new_max;
      row_sum[lid] = sum;
      rescale[lid] = alpha;
    }
    workgroupBarrier();
    for (var t = lid; t < TK * D4; t += WG) {
      let j = slot_key[t / D4];
      var row = vec4<f32>(0.0f);
      if (j >= 0) {
        row = v[(kv_head * p.seq + u32(j)) * D4 + t % D4];
      }
      kv_rows[t] = row;
    }
    workgroupBarrier();
    if (lane < LANES) {
      for (var e = 0u; e < HPT; e++) {
        let hh = lane + e * LANES;
        if (hh < HPW) {
          var sum = acc[e] * rescale[hh];
          for (var s = 0u; s < TK; s++) {
            sum = fma(vec4<f32>(probs[hh * TK + s]), kv_rows[s * D4 + c4], sum);
          }
          acc[e] = sum;
        }
      }
    }
  }
  workgroupBarrier();
  if (lane < LANES) {
    for (var e = 0u; e < HPT; e++) {
      let hh = lane + e * LANES;
      if (hh < HPW) {
        let l = row_sum[hh];
        let inv = select(0.0f, 1.0f / l, l > 0.0f);
        o[((b * p.heads + h0 + hh) * p.seq + i) * D4 + c4] = acc[e] * inv;
      }
    }
  }
}
