// Chunked linear attention: gated linear attention, or the gated delta rule in WY form.
//
// A workgroup owns one (batch·head, tile of DVT value columns) and walks the sequence in chunks of
// C tokens with its DK×DVT state slice in workgroup memory. Per chunk (G = cumulative log2-decay
// inside the chunk, so every exp2 below has a non-positive argument and never overflows):
//   P[i][j] = (qᵢ·kⱼ)·2^(Gᵢ−Gⱼ) for j ≤ i               (the causal, decayed scores)
//   gla:   vnew = V
//   delta: A[i][j] = βᵢ(kᵢ·kⱼ)·2^(Gᵢ−Gⱼ) for j < i;  (I + A)·vnew = β∘(V − 2^G∘(K·S))
//          (forward substitution; the same vnew as fla's u − w·S with w, u = (I + A)⁻¹(βk·2^G, βv))
//   O = 2^G∘(Q·S) + P·vnew
//   S ← 2^G_last·S + Σⱼ 2^(G_last−Gⱼ) kⱼ vnewⱼᵀ
// All products are f32; every matrix product is "each invocation owns output elements and loops
// over the shared dimension in workgroup memory".

alias elem = f32;

const DK: u32 = 64u;
const DV: u32 = 64u;
const DVT: u32 = 16u;
const C: u32 = 16u;
const WG: u32 = 256u;
// Output elements (C × DVT) per invocation.
const OWN: u32 = 1u;
const DELTA: bool = true;
const SCALE: f32 = 0.125f;
const L2_EPS: f32 = 1e-6f;
const LOG2E: f32 = 1.4426950408889634f;
// A's storage: C×C for delta, one float for gla (which has no A).
const A_SIZE: u32 = 256u;

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

var<workgroup> s_tile: array<f32, DK * DVT>;
var<workgroup> k_tile: array<f32, C * DK>;
var<workgroup> q_tile: array<f32, C * DK>;
// V of the chunk, overwritten by the right-hand side and then by vnew (delta).
var<workgroup> v_tile: array<f32, C * DVT>;
var<workgroup> p_tile: array<f32, C * C>;
var<workgroup> a_tile: array<f32, A_SIZE>;
// Cumulative log2-decay, 2^G, 2^(G_last − G), β and 1/‖·‖ of k (first C) and q (next C) per row.
var<workgroup> gcum: array<f32, C>;
var<workgroup> decay_in: array<f32, C>;
var<workgroup> decay_out: array<f32, C>;
var<workgroup> beta_c: array<f32, C>;
var<workgroup> inv_norm: array<f32, 2u * C>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bh = wid.y;
  let col0 = wid.x * DVT;
  let seq = params.seq;
  let s_base = bh * DK * DV;

  for (var e = lid; e < DK * DVT; e += WG) {
    let col = col0 + e % DVT;
    var x = 0.0f;
    if (col < DV) {
      x = s0[s_base + (e / DVT) * DV + col];
    }
    s_tile[e] = x;
  }

  let chunks = (seq + C - 1u) / C;
  for (var ch = 0u; ch < chunks; ch++) {
    let t0 = ch * C;
    let row0 = bh * seq + t0;
    // Tokens past T load as zeros with g = 0 and β = 0: they add nothing and decay nothing.
    for (var e = lid; e < C * DK; e += WG) {
      var kx = 0.0f;
      var qx = 0.0f;
      if (t0 + e / DK < seq) {
        kx = f32(k[row0 * DK + e]);
        qx = f32(q[row0 * DK + e]);
      }
      k_tile[e] = kx;
      q_tile[e] = qx;
    }
    for (var e = lid; e < C * DVT; e += WG) {
      let i = e / DVT;
      let col = col0 + e % DVT;
      var x = 0.0f;
      if (t0 + i < seq && col < DV) {
        x = f32(v[(row0 + i) * DV + col]);
      }
      v_tile[e] = x;
    }
    if (lid < C) {
      var gx = 0.0f;
      var bx = 0.0f;
      if (t0 + lid < seq) {
        gx = f32(g[row0 + lid]) * LOG2E;
        if (DELTA) {
          bx = f32(beta[row0 + lid]);
        }
      }
      gcum[lid] = gx;
      beta_c[lid] = bx;
    }
    workgroupBarrier();

    if (lid == 0u) {
      var acc = 0.0f;
      for (var i = 0u; i < C; i++) {
        acc += gcum[i];
        gcum[i] = acc;
      }
      for (var i = 0u; i < C; i++) {
        decay_in[i] = exp2(gcum[i]);
        decay_out[i] = exp2(acc - gcum[i]);
      }
    }
    if (DELTA) {
      for (var n = lid; n < 2u * C; n += WG) {
        let i = n % C;
        var sum = 0.0f;
        for (var r = 0u; r < DK; r++) {
          var x = k_tile[i * DK + r];
          if (n >= C) {
            x = q_tile[i * DK + r];
          }
          sum += x * x;
        }
        inv_norm[n] = inverseSqrt(sum + L2_EPS);
      }
    }
    workgroupBarrier();

    for (var e = lid; e < C * DK; e += WG) {
      if (DELTA) {
        k_tile[e] *= inv_norm[e / DK];
        q_tile[e] *= inv_norm[C + e / DK] * SCALE;
      } else {
        q_tile[e] *= SCALE;
      }
    }
    workgroupBarrier();

    for (var e = lid; e < C * C; e += WG) {
      let i = e / C;
      let j = e % C;
      var p = 0.0f;
      var a = 0.0f;
      if (j <= i) {
        let ratio = exp2(gcum[i] - gcum[j]);
        var qk = 0.0f;
        var kk = 0.0f;
        for (var r = 0u; r < DK; r++) {
          let kj = k_tile[j * DK + r];
          qk += q_tile[i * DK + r] * kj;
          if (DELTA) {
            kk += k_tile[i * DK + r] * kj;
          }
        }
        p = qk * ratio;
        if (DELTA && j < i) {
          a = beta_c[i] * kk * ratio;
        }
      }
      p_tile[e] = p;
      if (DELTA) {
        a_tile[e] = a;
      }
    }
    // Q·S (kept for the output) and, for delta, the right-hand side β(V − 2^G·K·S) in place of V:
    // both read the state before this chunk's update.
    var qs: array<f32, OWN>;
    // @unroll
    for (var n = 0u; n < OWN; n++) {
      let e = lid + n * WG;
      if (e < C * DVT) {
        let i = e / DVT;
        let c = e % DVT;
        var acc_q = 0.0f;
        var acc_k = 0.0f;
        for (var r = 0u; r < DK; r++) {
          let sv = s_tile[r * DVT + c];
          acc_q += q_tile[i * DK + r] * sv;
          if (DELTA) {
            acc_k += k_tile[i * DK + r] * sv;
          }
        }
        qs[n] = acc_q * decay_in[i];
        if (DELTA) {
          v_tile[e] = beta_c[i] * (v_tile[e] - decay_in[i] * acc_k);
        }
      }
    }
    workgroupBarrier();

    if (DELTA) {
      // (I + A)·vnew = rhs, one column per invocation: row i needs rows j < i of its own column only.
      for (var c = lid; c < DVT; c += WG) {
        for (var i = 1u; i < C; i++) {
          var acc = v_tile[i * DVT + c];
          for (var j = 0u; j < i; j++) {
            acc -= a_tile[i * C + j] * v_tile[j * DVT + c];
          }
          v_tile[i * DVT + c] = acc;
        }
      }
      workgroupBarrier();
    }

    // @unroll
    for (var n = 0u; n < OWN; n++) {
      let e = lid + n * WG;
      if (e < C * DVT) {
        let i = e / DVT;
        let c = e % DVT;
        var acc = qs[n];
        for (var j = 0u; j <= i; j++) {
          acc += p_tile[i * C + j] * v_tile[j * DVT + c];
        }
        if (t0 + i < seq && col0 + c < DV) {
          o[(row0 + i) * DV + col0 + c] = elem(acc);
        }
      }
    }
    let carry = decay_in[C - 1u];
    for (var e = lid; e < DK * DVT; e += WG) {
      let r = e / DVT;
      let c = e % DVT;
      var acc = carry * s_tile[e];
      for (var j = 0u; j < C; j++) {
        acc += decay_out[j] * k_tile[j * DK + r] * v_tile[j * DVT + c];
      }
      s_tile[e] = acc;
    }
    workgroupBarrier();
  }

  for (var e = lid; e < DK * DVT; e += WG) {
    let col = col0 + e % DVT;
    if (col < DV) {
      s_out[s_base + (e / DVT) * DV + col] = s_tile[e];
    }
  }
}
