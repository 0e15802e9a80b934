// Lightning indexer: scores[b, r, j] = Σ_h w(i, h) · ReLU(qᴵ(i, h) · kᴵ(j)) for query i =
// query_start + r and key j ≤ i; MASKED past the causal limit.
//
// A register-tiled GEMM with a ReLU-weighted reduction over index heads in its epilogue. One
// workgroup of 16 × 16 invocations computes a 64-query × 64-key tile, each invocation 4 queries ×
// 4 keys. For each index head the Q and K tiles stream through workgroup memory in DC-dim chunks,
// stored transposed so that each step reads one vec4 of queries and one vec4 of keys for 16 FMAs
// (2 KiB + 2 KiB per chunk of 16 dims: 8 KiB in all, several workgroups per SM). The K tile is the
// same for every index head (DSA's index keys have no head) and is re-read from L1/L2 per head.
// Each step's Q and K vec4 are loaded into registers one step ahead (during the previous step's
// FMAs). A tile wholly above the diagonal writes MASKED without computing.

const TILE: u32 = 64u;
const DC: u32 = 16u;
const MASKED: f32 = -3.0e38f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> index_q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> index_k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> index_w: array<f32>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;

// [dim][row / 4]: vec4 of four consecutive rows (queries or keys) at one index dim.
var<workgroup> q_tile: array<vec4<f32>, DC * TILE / 4u>;
var<workgroup> k_tile: array<vec4<f32>, DC * TILE / 4u>;

// The loader's Q and K vec4 of one (index head, dim chunk) step; zeros past the rows or dims.
fn load_step(step: u32, chunks: u32, b: u32, load_i: u32, load_row: u32, load_c4: u32, load_q_ok: bool,
             load_k_ok: bool, key0: u32, d4: u32) -> array<vec4<f32>, 2> {
  let h = step / chunks;
  let c4 = (step % chunks) * (DC / 4u) + load_c4;
  var out: array<vec4<f32>, 2>;
  out[0] = vec4<f32>(0.0f);
  out[1] = vec4<f32>(0.0f);
  if (load_q_ok && c4 < d4) {
    out[0] = index_q[((b * p.seq + load_i) * p.index_heads + h) * d4 + c4];
  }
  if (load_k_ok && c4 < d4) {
    out[1] = index_k[(b * p.seq + key0 + load_row) * d4 + c4];
  }
  return out;
}

// Grid: x = key tiles, y = query tiles of the block, z = batch.
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let b = wid.z;
  let r0 = wid.y * TILE;
  let key0 = wid.x * TILE;
  let last_row = min(r0 + TILE, p.rows) - 1u;
  let tile_masked = key0 > p.query_start + last_row;
  let d4 = p.index_dim / 4u;
  // Loader role: invocation li loads row li / 4 (of queries and of keys), dims 4·(li % 4) .. +3.
  let load_row = li / 4u;
  let load_c4 = li % 4u;
  let load_q_ok = r0 + load_row < p.rows;
  let load_k_ok = key0 + load_row < p.seq;
  let load_i = p.query_start + r0 + load_row;

  var acc: array<vec4<f32>, 4>;
  for (var e = 0u; e < 4u; e++) {
    acc[e] = vec4<f32>(0.0f);
  }
  if (!tile_masked) {
    // (index head, dim chunk) steps in one loop so that the next step's Q and K vec4 are loaded
    // into registers before this step's FMAs: the global latency hides under 16 × 16 FMAs
    // instead of stalling between the load and the workgroup-memory store.
    let chunks = (d4 + DC / 4u - 1u) / (DC / 4u);
    let steps = p.index_heads * chunks;
    var next = load_step(0u, chunks, b, load_i, load_row, load_c4, load_q_ok, load_k_ok, key0, d4);
    var dot: array<vec4<f32>, 4>;
    for (var step = 0u; step < steps; step++) {
      let h = step / chunks;
      let chunk = step % chunks;
      if (chunk == 0u) {
        for (var e = 0u; e < 4u; e++) {
          dot[e] = vec4<f32>(0.0f);
        }
      }
      for (var e = 0u; e < 4u; e++) {
        let slot = (load_c4 * 4u + e) * (TILE / 4u) + load_row / 4u;
        q_tile[slot][load_row % 4u] = next[0][e];
        k_tile[slot][load_row % 4u] = next[1][e];
      }
      workgroupBarrier();
      if (step + 1u < steps) {
        next = load_step(step + 1u, chunks, b, load_i, load_row, load_c4, load_q_ok, load_k_ok, key0, d4);
      }
      // @unroll
      for (var c = 0u; c < DC; c++) {
        let qs = q_tile[c * (TILE / 4u) + lid.y];
        let ks = k_tile[c * (TILE / 4u) + lid.x];
        dot[0] = fma(vec4<f32>(qs.x), ks, dot[0]);
        dot[1] = fma(vec4<f32>(qs.y), ks, dot[1]);
        dot[2] = fma(vec4<f32>(qs.z), ks, dot[2]);
        dot[3] = fma(vec4<f32>(qs.w), ks, dot[3]);
      }
      workgroupBarrier();
      if (chunk == chunks - 1u) {
        for (var e = 0u; e < 4u; e++) {
          let r = r0 + lid.y * 4u + e;
          if (r < p.rows) {
            let w = index_w[(b * p.seq + p.query_start + r) * p.index_heads + h];
            acc[e] = fma(vec4<f32>(w), max(dot[e], vec4<f32>(0.0f)), acc[e]);
          }
        }
      }
    }
  }
  for (var e = 0u; e < 4u; e++) {
    let r = r0 + lid.y * 4u + e;
    if (r >= p.rows) {
      break;
    }
    let i = p.query_start + r;
    let base = (b * p.rows + r) * p.seq;
    for (var f = 0u; f < 4u; f++) {
      let j = key0 + lid.x * 4u + f;
      if (j < p.seq) {
        scores[base + j] = select(MASKED, acc[e][f], j <= i);
      }
    }
  }
}
