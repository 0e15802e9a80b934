// One token at a time: the readable GPU definition of the linear family, and its decode step.
//
// A workgroup owns one (batch·head, tile of COLS value columns). Each of its SPLIT×COLS invocations
// holds ROWS rows of one column of the d_k×d_v state in registers (rows r, r + SPLIT, …), so the
// state is read from memory once and written once whatever T is. Invocations of one row segment
// are consecutive, so every state load and store is a coalesced run of COLS floats.
//
// Per token the column's dot products with k and q (and, for the delta rule, ‖k‖², ‖q‖² and k·q)
// are summed over the SPLIT invocations of the column through workgroup memory — the only barrier —
// and the update and the output follow in closed form from the old state:
//   gla:   S' = αS + kvᵀ,                      o = S'ᵀ(s·q) = s·(α·Sᵀq + (k·q)·v)
//   delta: u = β(v − α·Sᵀk̂),  S' = αS + k̂uᵀ,  o = S'ᵀq̂ = α·Sᵀq̂ + (k̂·q̂)·u

alias elem = f32;

const DK: u32 = 64u;
const DV: u32 = 64u;
const COLS: u32 = 32u;
const SPLIT: u32 = 4u;
const ROWS: u32 = 16u;
const WG: u32 = 128u;
const DELTA: bool = true;
const SCALE: f32 = 0.125f;
// Value heads per query/key head (GVA): q and k rows come from head bh / QK_GROUP.
const QK_GROUP: u32 = 1u;
const L2_EPS: f32 = 1e-6f;
// Partial sums per invocation: Sᵀq and k·q (both rules), then Sᵀk, ‖k‖², ‖q‖² (delta).
const NV: u32 = 5u;

struct Params {
  seq: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<elem>;
@group(0) @binding(2) var<storage, read> k: array<elem>;
@group(0) @binding(3) var<storage, read> v: array<elem>;
@group(0) @binding(4) var<storage, read> g: array<elem>;
@group(0) @binding(5) var<storage, read> beta: array<elem>;
@group(0) @binding(6) var<storage, read> s0: array<f32>;
@group(0) @binding(7) var<storage, read_write> o: array<elem>;
@group(0) @binding(8) var<storage, read_write> s_out: array<f32>;

// Two slots, by token parity, so one barrier per token suffices: a slot is rewritten only after
// the next token's barrier, which every reader of it has passed.
var<workgroup> partials: array<f32, 2u * NV * WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bh = wid.y;
  let c_local = lid % COLS;
  let r = lid / COLS;
  let col = wid.x * COLS + c_local;
  let live = col < DV;
  let s_base = bh * DK * DV;
  let seq = params.seq;

  var state: array<f32, ROWS>;
  var kr: array<f32, ROWS>;
  // @unroll
  for (var i = 0u; i < ROWS; i++) {
    let row = r + i * SPLIT;
    state[i] = 0.0f;
    if (live && row < DK) {
      state[i] = s0[s_base + row * DV + col];
    }
  }

  for (var t = 0u; t < seq; t++) {
    let tok = bh * seq + t;
    let qk_tok = (bh / QK_GROUP) * seq + t;
    var sq = 0.0f;
    var sk = 0.0f;
    var kk = 0.0f;
    var qq = 0.0f;
    var kq = 0.0f;
    // @unroll
    for (var i = 0u; i < ROWS; i++) {
      let row = r + i * SPLIT;
      var kv = 0.0f;
      var qv = 0.0f;
      if (row < DK) {
        kv = f32(k[qk_tok * DK + row]);
        qv = f32(q[qk_tok * DK + row]);
      }
      kr[i] = kv;
      sq += state[i] * qv;
      sk += state[i] * kv;
      kk += kv * kv;
      qq += qv * qv;
      kq += kv * qv;
    }
    let slot = (t & 1u) * NV * WG;
    partials[slot + lid] = sq;
    partials[slot + WG + lid] = kq;
    if (DELTA) {
      partials[slot + 2u * WG + lid] = sk;
      partials[slot + 3u * WG + lid] = kk;
      partials[slot + 4u * WG + lid] = qq;
    }
    workgroupBarrier();
    var sums = array<f32, NV>(0.0f, 0.0f, 0.0f, 0.0f, 0.0f);
    // @unroll
    for (var s = 0u; s < SPLIT; s++) {
      let at = slot + c_local + s * COLS;
      sums[0] += partials[at];
      sums[1] += partials[at + WG];
      if (DELTA) {
        sums[2] += partials[at + 2u * WG];
        sums[3] += partials[at + 3u * WG];
        sums[4] += partials[at + 4u * WG];
      }
    }
    let alpha = exp(f32(g[tok]));
    let vv = select(0.0f, f32(v[tok * DV + min(col, DV - 1u)]), live);
    var u = vv;
    var out = 0.0f;
    var kscale = 1.0f;
    if (DELTA) {
      kscale = inverseSqrt(sums[3] + L2_EPS);
      let qscale = SCALE * inverseSqrt(sums[4] + L2_EPS);
      u = f32(beta[tok]) * (vv - alpha * sums[2] * kscale);
      out = alpha * sums[0] * qscale + sums[1] * kscale * qscale * u;
    } else {
      out = SCALE * (alpha * sums[0] + sums[1] * vv);
    }
    // @unroll
    for (var i = 0u; i < ROWS; i++) {
      state[i] = alpha * state[i] + kr[i] * kscale * u;
    }
    if (r == 0u && live) {
      o[tok * DV + col] = elem(out);
    }
  }

  // @unroll
  for (var i = 0u; i < ROWS; i++) {
    let row = r + i * SPLIT;
    if (live && row < DK) {
      s_out[s_base + row * DV + col] = state[i];
    }
  }
}
