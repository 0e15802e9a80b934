// Pass 1 of the chunked kernel: everything inside one chunk that does not depend on the state, in
// parallel over all (batch·head, chunk) pairs — one workgroup each, B·H·⌈T/C⌉ of them.
//
// Per chunk (G = cumulative log2-decay inside the chunk, so every exp2 argument below is ≤ 0):
//   P[i][j] = s·(qᵢ·kⱼ)/(‖qᵢ‖‖kⱼ‖)·2^(Gᵢ−Gⱼ), j ≤ i         (the causal, decayed scores; norms: delta)
//   delta: A[i][j] = βᵢ(k̂ᵢ·k̂ⱼ)·2^(Gᵢ−Gⱼ), j < i;  T = (I + A)⁻¹ by forward substitution;
//          w = T·(β∘2^G∘k̂),  u = T·(β∘v)                   (the WY factors, as fla's chunk.py)
//   fac[i] = (2^Gᵢ, 2^(G_last−Gᵢ), 1/‖kᵢ‖, s/‖qᵢ‖)          (what pass 2 scales raw q and k with)
// Tokens past T count as g = 0, β = 0, q = k = v = 0: their rows of P, w, u are zero.

alias elem = f32;

const DK: u32 = 64u;
const DV: u32 = 64u;
const C: u32 = 64u;
const WG: u32 = 256u;
// Features per Gram slab in workgroup memory, in vec4s.
const SL4: u32 = 4u;
const DELTA: bool = true;
const SCALE: f32 = 0.125f;
const L2_EPS: f32 = 1e-6f;
const LOG2E: f32 = 1.4426950408889634f;
// C×C for delta, one float for gla (which has no A and no T).
const A_SIZE: u32 = 4096u;
// Value heads per query/key head (GVA: each q/k head serves QK_GROUP value heads and their states).
const QK_GROUP: u32 = 1u;

const DK4: u32 = DK / 4u;
// 4-token blocks per chunk side.
const NB: u32 = C / 4u;

struct Params {
  seq: u32,
  // Chunks per (batch, head), ⌈T/C⌉.
  chunks: u32,
  // Offset of fac in pf, in floats: B·H·chunks·C·C.
  fac0: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<elem>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<elem>>;
@group(0) @binding(3) var<storage, read> v: array<elem>;
@group(0) @binding(4) var<storage, read> g: array<elem>;
@group(0) @binding(5) var<storage, read> beta: array<elem>;
// P (C×C per chunk), then fac (one vec4 per chunk-padded token) after all of P.
@group(0) @binding(6) var<storage, read_write> pf: array<f32>;
@group(0) @binding(7) var<storage, read_write> w: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> u: array<f32>;

var<workgroup> gcum: array<f32, C>;
var<workgroup> beta_c: array<f32, C>;
var<workgroup> inv_k: array<f32, C>;
var<workgroup> inv_q: array<f32, C>;
// A Gram slab of k and q, transposed: k_t[r * NB + b][x] = k[4b + x][r] for slab feature r.
var<workgroup> k_t: array<vec4<f32>, 4u * SL4 * NB>;
var<workgroup> q_t: array<vec4<f32>, 4u * SL4 * NB>;
var<workgroup> a_tile: array<f32, A_SIZE>;
var<workgroup> t_tile: array<f32, A_SIZE>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x;
  let bh = wid.y;
  let seq = params.seq;
  let t0 = ch * C;
  let row0 = bh * seq + t0;
  // Row 0 of the chunk in q and k, which have a head for every QK_GROUP value heads.
  let qk0 = (bh / QK_GROUP) * seq + t0;
  // Rows valid in this chunk (the last chunk may be short).
  let valid = min(C, seq - t0);
  // Chunk-padded token index of row 0 in the scratch buffers.
  let tp0 = (bh * params.chunks + ch) * C;

  if (lid < C) {
    var gx = 0.0f;
    var bx = 0.0f;
    if (lid < valid) {
      gx = f32(g[row0 + lid]) * LOG2E;
      if (DELTA) {
        bx = f32(beta[row0 + lid]);
      }
    }
    gcum[lid] = gx;
    beta_c[lid] = bx;
  }
  // Inverse norms of k rows (n < C) and q rows (n ≥ C); gla uses the raw vectors.
  for (var n = lid; n < 2u * C; n += WG) {
    let i = n % C;
    var inv = 1.0f;
    if (DELTA) {
      var sum = 0.0f;
      if (i < valid) {
        for (var r4 = 0u; r4 < DK4; r4++) {
          var x: vec4<f32>;
          if (n < C) {
            x = vec4<f32>(k[(qk0 + i) * DK4 + r4]);
          } else {
            x = vec4<f32>(q[(qk0 + i) * DK4 + r4]);
          }
          sum += dot(x, x);
        }
      }
      inv = inverseSqrt(sum + L2_EPS);
    }
    if (n < C) {
      inv_k[i] = inv;
    } else {
      inv_q[i] = inv;
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    var acc = 0.0f;
    for (var i = 0u; i < C; i++) {
      acc += gcum[i];
      gcum[i] = acc;
    }
  }
  workgroupBarrier();

  let g_last = gcum[C - 1u];
  for (var i = lid; i < C; i += WG) {
    let fac = vec4<f32>(exp2(gcum[i]), exp2(g_last - gcum[i]), inv_k[i], SCALE * inv_q[i]);
    let base = params.fac0 + (tp0 + i) * 4u;
    pf[base] = fac.x;
    pf[base + 1u] = fac.y;
    pf[base + 2u] = fac.z;
    pf[base + 3u] = fac.w;
  }

  // Gram matrices Q·Kᵀ and K·Kᵀ over d_k, through workgroup memory in slabs of SL features stored
  // transposed (feature-major, four tokens per vec4): each invocation owns a 4×4 block of (i, j)
  // and does 32 multiply-adds per three conflict-free vec4 reads. Blocks above the diagonal idle:
  // both matrices are causal, and pass 2 reads P only up to the diagonal block.
  let ib = lid / NB;
  let jb = lid % NB;
  let owner = lid < NB * NB && jb <= ib;
  var qk = array<vec4<f32>, 4>();
  var kk = array<vec4<f32>, 4>();
  for (var s0 = 0u; s0 < DK4; s0 += SL4) {
    workgroupBarrier();
    for (var e = lid; e < C * SL4; e += WG) {
      let i = e / SL4;
      let r4 = s0 + e % SL4;
      var kx = vec4<f32>(0.0f);
      var qx = vec4<f32>(0.0f);
      if (i < valid && r4 < DK4) {
        kx = vec4<f32>(k[(qk0 + i) * DK4 + r4]);
        qx = vec4<f32>(q[(qk0 + i) * DK4 + r4]);
      }
      let at = 4u * (e % SL4) * NB + i / 4u;
      let x = i % 4u;
      k_t[at][x] = kx.x;
      k_t[at + NB][x] = kx.y;
      k_t[at + 2u * NB][x] = kx.z;
      k_t[at + 3u * NB][x] = kx.w;
      q_t[at][x] = qx.x;
      q_t[at + NB][x] = qx.y;
      q_t[at + 2u * NB][x] = qx.z;
      q_t[at + 3u * NB][x] = qx.w;
    }
    workgroupBarrier();
    if (owner) {
      for (var r = 0u; r < 4u * SL4; r++) {
        let qa = q_t[r * NB + ib];
        let ka = k_t[r * NB + ib];
        let kb = k_t[r * NB + jb];
        // @unroll
        for (var x = 0u; x < 4u; x++) {
          qk[x] += qa[x] * kb;
          if (DELTA) {
            kk[x] += ka[x] * kb;
          }
        }
      }
    }
  }
  if (owner) {
    // @unroll
    for (var x = 0u; x < 4u; x++) {
      let i = 4u * ib + x;
      var p = vec4<f32>(0.0f);
      var a = vec4<f32>(0.0f);
      if (i < valid) {
        let j = 4u * jb + vec4<u32>(0u, 1u, 2u, 3u);
        let ratio = exp2(gcum[i] - vec4<f32>(gcum[j.x], gcum[j.y], gcum[j.z], gcum[j.w]));
        let ik = vec4<f32>(inv_k[j.x], inv_k[j.y], inv_k[j.z], inv_k[j.w]);
        p = select(vec4<f32>(0.0f), qk[x] * (SCALE * inv_q[i]) * ik * ratio, j <= vec4<u32>(i));
        a = select(vec4<f32>(0.0f), kk[x] * (beta_c[i] * inv_k[i]) * ik * ratio, j < vec4<u32>(i));
      }
      let at = (tp0 + i) * C + 4u * jb;
      pf[at] = p.x;
      pf[at + 1u] = p.y;
      pf[at + 2u] = p.z;
      pf[at + 3u] = p.w;
      if (DELTA) {
        let e = i * C + 4u * jb;
        a_tile[e] = a.x;
        a_tile[e + 1u] = a.y;
        a_tile[e + 2u] = a.z;
        a_tile[e + 3u] = a.w;
      }
    }
  }
  if (!DELTA) {
    return;
  }
  workgroupBarrier();

  // T = (I + A)⁻¹, one column m per invocation: T[i][m] needs only T[j][m] for m ≤ j < i, which
  // the same invocation wrote, so no barrier inside the substitution.
  for (var m = lid; m < C; m += WG) {
    for (var i = 0u; i < m; i++) {
      t_tile[i * C + m] = 0.0f;
    }
    t_tile[m * C + m] = 1.0f;
    for (var i = m + 1u; i < C; i++) {
      var acc = 0.0f;
      for (var j = m; j < i; j++) {
        acc -= a_tile[i * C + j] * t_tile[j * C + m];
      }
      t_tile[i * C + m] = acc;
    }
  }
  workgroupBarrier();

  // w = T·(β∘2^G∘k̂) as vec4 rows; u = T·(β∘v). T is lower triangular: j ≤ i. Rows past T are
  // written too (zeros), so pass 2 reads whole chunks without bounds checks.
  for (var e = lid; e < C * DK4; e += WG) {
    let i = e / DK4;
    let r4 = e % DK4;
    var acc = vec4<f32>(0.0f);
    for (var j = 0u; j <= min(i, valid - 1u); j++) {
      let s = t_tile[i * C + j] * beta_c[j] * exp2(gcum[j]) * inv_k[j];
      acc += s * vec4<f32>(k[(qk0 + j) * DK4 + r4]);
    }
    w[(tp0 + i) * DK4 + r4] = acc;
  }
  for (var e = lid; e < C * DV; e += WG) {
    let i = e / DV;
    let c = e % DV;
    var acc = 0.0f;
    for (var j = 0u; j <= min(i, valid - 1u); j++) {
      acc += t_tile[i * C + j] * beta_c[j] * f32(v[(row0 + j) * DV + c]);
    }
    u[(tp0 + i) * DV + c] = acc;
  }
}
