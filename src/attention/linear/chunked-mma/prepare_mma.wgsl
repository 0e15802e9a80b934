// Pass 1 of linear-chunked-mma: every chunk of C tokens in parallel, one workgroup per (chunk,
// batch·head), its matrix products on subgroup matrices (f16 operands, f32 accumulation). It does
// what ../chunked/prepare.wgsl does (same notation: G the cumulative log2-decay inside the chunk),
// and also folds every per-row factor into the operands pass 2 multiplies, so that pass 2 is matrix
// products only:
//   q̃ᵢ = 2^Gᵢ·s·qᵢ/‖qᵢ‖            k̃ⱼ = 2^(G_last−Gⱼ)·kⱼ/‖kⱼ‖     (norms: delta; gla uses raw q, k)
//   Pᵢⱼ = s·(q̂ᵢ·k̂ⱼ)·2^(Gᵢ−Gⱼ), j ≤ i                             (QKᵀ on the matrix units)
//   delta: Aᵢⱼ = βᵢ(k̂ᵢ·k̂ⱼ)·2^(Gᵢ−Gⱼ), j < i (KKᵀ on the matrix units); T = (I + A)⁻¹ in f32 by
//          forward substitution; −w = T·(−β∘2^G∘k̂) and u = T·(β∘v) on the matrix units
//          (−w, so that pass 2's vnew = u + (−w)·h is one multiply-accumulate onto u)
//   gla:   v copied to the chunk-padded layout (pass 2 reads whole chunks as matrices)
//   carry = 2^G_last, the state's decay over the chunk.
// Everything pass 2 reads is chunk-padded (zeros past T), so its matrix loads never leave a head.
// f16: q̃, k̃, P, −w and v (what pass 2 multiplies); f32: u (the accumulator vnew starts from) and
// carry (2^G_last underflows f16 under strong decay).

diagnostic(off, chromium.subgroup_matrix_uniformity);
diagnostic(off, subgroup_uniformity);
enable subgroups;
enable chromium_experimental_subgroup_matrix;

alias elem = f32;
// The matrix operands' element type.
alias half = f16;

const DK: u32 = 64u;
const DV: u32 = 64u;
const DMAX: u32 = 64u;
const C: u32 = 32u;
// The device's matrix shape (square: SM = SN = SK) and subgroup size.
const SM: u32 = 16u;
const SN: u32 = 16u;
const SK: u32 = 16u;
const SUBGROUP_SIZE: u32 = 32u;
const SGS: u32 = 4u;
const DELTA: bool = true;
const SCALE: f32 = 0.125f;
const L2_EPS: f32 = 1e-6f;
const LOG2E: f32 = 1.4426950408889634f;

const WG: u32 = SGS * SUBGROUP_SIZE;
const DK4: u32 = DK / 4u;
const DV4: u32 = DV / 4u;
// q and k vec4s each invocation stages.
const STAGE_ITERS: u32 = (C * DK4 + WG - 1u) / WG;
// Gram tiles (C/SM)², of which the ones on or below the diagonal are computed, SGS at a time.
const GRAM_TILES: u32 = (C / SM) * (C / SN);
const GRAM_ROUNDS: u32 = (GRAM_TILES + SGS - 1u) / SGS;
// stage16: q rows (later β∘v) at Q_OFF, k rows (later −β∘2^G∘k̂) at K_OFF.
const Q_OFF: u32 = 0u;
const K_OFF: u32 = C * DMAX;
// scratch32: A (delta, C×C, and T transposed in its upper triangle; 16 floats for gla) at A_OFF,
// then R_OFF: the Gram tiles (one or two per subgroup), then −w (C×DK); R_SIZE is the larger.
// A's rows are C + 1 floats apart: the solve's invocations each walk their own row or column, and a
// stride of C put all of them on one memory bank (on the H200 at T = 16384, H = 16, d = 128, C = 32
// pass 1 went from 4.04 to 3.82 ms with this, on two loans; unrolling its loads and storing vec4s
// then took it to 2.74 ms).
const A_STRIDE: u32 = C + 1u;
const A_SIZE: u32 = C * A_STRIDE;
// T in f16 for the WY products (one element for gla).
const T16_SIZE: u32 = C * C;
const A_OFF: u32 = 0u;
const R_OFF: u32 = A_SIZE;
const R_SIZE: u32 = C * DK;

struct Params {
  seq: u32,
  chunks: u32,
  // Offsets in sh (halves): k̃, P, −w (delta), padded v (gla); q̃ starts at 0.
  ks0: u32,
  pm0: u32,
  ws0: u32,
  vp0: u32,
  // Offset of carry in sf (floats); u (delta) starts at 0.
  carry0: u32,
  // Value heads per q/k head (GVA); a uniform, so that GVA shapes share the pipeline.
  qk_group: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<elem>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<elem>>;
@group(0) @binding(3) var<storage, read> v4: array<vec4<elem>>;
@group(0) @binding(4) var<storage, read> g: array<elem>;
@group(0) @binding(5) var<storage, read> beta: array<elem>;
// q̃, k̃, P, −w, v: the f16 operands of pass 2, chunk-padded; written four at a time (pass 2 reads
// the same buffer as array<f16>, for its matrix loads).
@group(0) @binding(6) var<storage, read_write> sh4: array<vec4<half>>;
// u, carry.
@group(0) @binding(7) var<storage, read_write> sf: array<f32>;

var<workgroup> gcum: array<f32, C>;
var<workgroup> beta_c: array<f32, C>;
var<workgroup> inv_k: array<f32, C>;
var<workgroup> inv_q: array<f32, C>;
var<workgroup> stage16: array<half, C * (DMAX + DK)>;
var<workgroup> t16: array<half, T16_SIZE>;
var<workgroup> scratch32: array<f32, A_SIZE + R_SIZE>;

// Four consecutive staged values (e a multiple of 4).
fn stage4(e: u32) -> vec4<f32> {
  return vec4<f32>(f32(stage16[e]), f32(stage16[e + 1u]), f32(stage16[e + 2u]), f32(stage16[e + 3u]));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32) {
  let ch = wid.x;
  let bh = wid.y;
  let seq = params.seq;
  let t0 = ch * C;
  let row0 = bh * seq + t0;
  let qk0 = (bh / params.qk_group) * seq + t0;
  let valid = min(C, seq - t0);
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
  // All of an invocation's q and k loads go out before any is stored (unrolled): one round trip of
  // global latency, not STAGE_ITERS of them.
  var qx: array<vec4<elem>, STAGE_ITERS>;
  var kx: array<vec4<elem>, STAGE_ITERS>;
  // @unroll
  for (var n = 0u; n < STAGE_ITERS; n++) {
    let e = lid + n * WG;
    let i = e / DK4;
    if (e < C * DK4 && i < valid) {
      qx[n] = q[(qk0 + i) * DK4 + e % DK4];
      kx[n] = k[(qk0 + i) * DK4 + e % DK4];
    } else {
      qx[n] = vec4<elem>(0.0);
      kx[n] = vec4<elem>(0.0);
    }
  }
  // @unroll
  for (var n = 0u; n < STAGE_ITERS; n++) {
    let e = lid + n * WG;
    if (e < C * DK4) {
      let at = (e / DK4) * DK + 4u * (e % DK4);
      // @unroll
      for (var x = 0u; x < 4u; x++) {
        stage16[Q_OFF + at + x] = half(qx[n][x]);
        stage16[K_OFF + at + x] = half(kx[n][x]);
      }
    }
  }
  workgroupBarrier();
  // Inverse norms of k rows (n < C) and q rows (n ≥ C), from the f16 values the products use. Each
  // invocation starts its row at feature i: rows DK apart would all start on one memory bank.
  for (var n = lid; n < 2u * C; n += WG) {
    let i = n % C;
    var inv = 1.0f;
    if (DELTA) {
      let at = select(Q_OFF, K_OFF, n < C) + i * DK;
      var sum = 0.0f;
      for (var f = 0u; f < DK; f++) {
        let x = f32(stage16[at + (f + i) % DK]);
        sum += x * x;
      }
      inv = inverseSqrt(sum + L2_EPS);
    }
    if (n < C) {
      inv_k[i] = inv;
    } else {
      inv_q[i] = inv;
    }
  }
  if (lid == 0u) {
    var acc = 0.0f;
    for (var i = 0u; i < C; i++) {
      acc += gcum[i];
      gcum[i] = acc;
    }
  }
  workgroupBarrier();

  let g_last = gcum[C - 1u];
  if (lid == 0u) {
    sf[params.carry0 + bh * params.chunks + ch] = exp2(g_last);
  }
  // q̃ and k̃ (zero rows past T: their staged rows are zero); gla: v, chunk-padded.
  // Four elements per store (sh4 is sh as vec4s; every offset is a multiple of 4).
  for (var e4 = lid; e4 < C * DK4; e4 += WG) {
    let i = e4 / DK4;
    let e = 4u * e4;
    let qs = exp2(gcum[i]) * SCALE * inv_q[i];
    sh4[(tp0 * DK + e) / 4u] = vec4<half>(stage4(Q_OFF + e) * qs);
  }
  // k̃ transposed (d_k rows of the chunk's C keys), so that pass 2 loads k̃ᵀ row-major: column-major
  // loads from global memory cost it about as much as the whole chunk step's products.
  for (var e4 = lid; e4 < DK * C / 4u; e4 += WG) {
    let f = e4 / (C / 4u);
    let j = 4u * (e4 % (C / 4u));
    var x = vec4<f32>(0.0f);
    // @unroll
    for (var y = 0u; y < 4u; y++) {
      x[y] = f32(stage16[K_OFF + (j + y) * DK + f]) * exp2(g_last - gcum[j + y]) * inv_k[j + y];
    }
    sh4[(params.ks0 + tp0 * DK) / 4u + e4] = vec4<half>(x);
  }
  if (!DELTA) {
    for (var e4 = lid; e4 < C * DV4; e4 += WG) {
      var x = vec4<f32>(0.0f);
      if (e4 / DV4 < valid) {
        x = vec4<f32>(v4[row0 * DV4 + e4]);
      }
      sh4[(params.vp0 + tp0 * DV) / 4u + e4] = vec4<half>(x);
    }
  }

  // Q·Kᵀ (and K·Kᵀ) tile by tile, the ones on or below the diagonal, SGS at a time: each subgroup
  // stores its tile to its own slot of R, then all invocations scale, mask and write them.
  for (var r = 0u; r < GRAM_ROUNDS; r++) {
    let t = r * SGS + sg;
    let it = t / (C / SN);
    let jt = t % (C / SN);
    if (t < GRAM_TILES && jt <= it) {
      var aq = subgroup_matrix_result<f32, SN, SM>();
      var ak = subgroup_matrix_result<f32, SN, SM>();
      for (var kk = 0u; kk < DK / SK; kk++) {
        // Kᵀ as the right matrix: element (f, j) of the tile is k[jt·SN + j][kk·SK + f].
        let kt = subgroupMatrixLoad<subgroup_matrix_right<half, SN, SK>, col_major>(&stage16, K_OFF + jt * SN * DK + kk * SK, DK);
        let qa = subgroupMatrixLoad<subgroup_matrix_left<half, SK, SM>, row_major>(&stage16, Q_OFF + it * SM * DK + kk * SK, DK);
        aq = subgroupMatrixMultiplyAccumulate(qa, kt, aq);
        if (DELTA) {
          let ka = subgroupMatrixLoad<subgroup_matrix_left<half, SK, SM>, row_major>(&stage16, K_OFF + it * SM * DK + kk * SK, DK);
          ak = subgroupMatrixMultiplyAccumulate(ka, kt, ak);
        }
      }
      subgroupMatrixStore<row_major>(&scratch32, R_OFF + sg * SM * SN, aq, SN);
      if (DELTA) {
        subgroupMatrixStore<row_major>(&scratch32, R_OFF + (SGS + sg) * SM * SN, ak, SN);
      }
    }
    workgroupBarrier();
    // Four keys j per invocation and step, P stored as vec4s.
    for (var e4 = lid; e4 < SGS * SM * SN / 4u; e4 += WG) {
      let e = 4u * e4;
      let s = e / (SM * SN);
      let ts = r * SGS + s;
      let it = ts / (C / SN);
      let jt = ts % (C / SN);
      if (ts < GRAM_TILES && jt <= it) {
        let i = it * SM + (e % (SM * SN)) / SN;
        let j0 = jt * SN + e % SN;
        var p = vec4<f32>(0.0f);
        // @unroll
        for (var x = 0u; x < 4u; x++) {
          let j = j0 + x;
          var a = 0.0f;
          if (i < valid && j <= i) {
            let decay = exp2(gcum[i] - gcum[j]);
            p[x] = scratch32[R_OFF + e + x] * SCALE * inv_q[i] * inv_k[j] * decay;
            if (DELTA && j < i) {
              a = scratch32[R_OFF + SGS * SM * SN + e + x] * beta_c[i] * inv_k[i] * inv_k[j] * decay;
            }
          }
          if (DELTA) {
            scratch32[A_OFF + i * A_STRIDE + j] = a;
          }
        }
        sh4[(params.pm0 + (tp0 + i) * C + j0) / 4u] = vec4<half>(p);
      }
    }
    workgroupBarrier();
  }
  // @if DELTA
  // T = (I + A)⁻¹, one column m per invocation as in ../chunked/prepare.wgsl, written transposed
  // into A's upper triangle (T[i][m] at A_OFF + m·A_STRIDE + i, i > m; its unit diagonal and zeros above
  // implied): A's strict lower triangle, which the other columns still read, stays intact, and
  // C×C floats are saved (delta at C = 64 fits 48 KiB at d_k ≤ 64). Meanwhile the right-hand sides
  // replace q and k in stage16: β∘v (zero past T) and −β∘2^G∘k̂.
  for (var m = lid; m < C; m += WG) {
    for (var i = m + 1u; i < C; i++) {
      var acc = -scratch32[A_OFF + i * A_STRIDE + m];
      for (var j = m + 1u; j < i; j++) {
        acc -= scratch32[A_OFF + i * A_STRIDE + j] * scratch32[A_OFF + m * A_STRIDE + j];
      }
      scratch32[A_OFF + m * A_STRIDE + i] = acc;
    }
  }
  for (var e = lid; e < C * DK; e += WG) {
    let i = e / DK;
    let f = -beta_c[i] * exp2(gcum[i]) * inv_k[i];
    stage16[K_OFF + e] = half(f32(stage16[K_OFF + e]) * f);
  }
  for (var e4 = lid; e4 < C * DV4; e4 += WG) {
    let i = e4 / DV4;
    var x = vec4<f32>(0.0f);
    if (i < valid) {
      x = beta_c[i] * vec4<f32>(v4[row0 * DV4 + e4]);
    }
    // @unroll
    for (var c = 0u; c < 4u; c++) {
      stage16[Q_OFF + 4u * e4 + c] = half(x[c]);
    }
  }
  workgroupBarrier();
  for (var e = lid; e < C * C; e += WG) {
    let i = e / C;
    let m = e % C;
    var x = select(0.0f, 1.0f, i == m);
    if (i > m) {
      x = scratch32[A_OFF + m * A_STRIDE + i];
    }
    t16[e] = half(x);
  }
  workgroupBarrier();

  // u = T·(β∘v) straight to sf, and −w = T·(−β∘2^G∘k̂) into R; T is lower triangular, so row
  // block it needs column blocks kt ≤ it only.
  const U_TILES: u32 = (C / SM) * (DV / SN);
  const W_TILES: u32 = (C / SM) * (DK / SN);
  for (var t = sg; t < U_TILES + W_TILES; t += SGS) {
    let is_u = t < U_TILES;
    let tw = select(t - U_TILES, t, is_u);
    let width = select(DK, DV, is_u);
    let it = tw / (width / SN);
    let n = tw % (width / SN);
    var acc = subgroup_matrix_result<f32, SN, SM>();
    for (var kt = 0u; kt <= it; kt++) {
      let ta = subgroupMatrixLoad<subgroup_matrix_left<half, SK, SM>, row_major>(&t16, it * SM * C + kt * SK, C);
      let rhs = subgroupMatrixLoad<subgroup_matrix_right<half, SN, SK>, row_major>(&stage16, select(K_OFF, Q_OFF, is_u) + kt * SK * width + n * SN, width);
      acc = subgroupMatrixMultiplyAccumulate(ta, rhs, acc);
    }
    if (is_u) {
      subgroupMatrixStore<row_major>(&sf, (tp0 + it * SM) * DV + n * SN, acc, DV);
    } else {
      subgroupMatrixStore<row_major>(&scratch32, R_OFF + it * SM * DK + n * SN, acc, DK);
    }
  }
  workgroupBarrier();
  for (var e4 = lid; e4 < C * DK4; e4 += WG) {
    let e = 4u * e4;
    let w4 = vec4<f32>(scratch32[R_OFF + e], scratch32[R_OFF + e + 1u], scratch32[R_OFF + e + 2u], scratch32[R_OFF + e + 3u]);
    sh4[(params.ws0 + tp0 * DK) / 4u + e4] = vec4<half>(w4);
  }
  // @endif
}
