// Pass 2 of linear-chunked-mma: the state recurrence across chunks and the output, one workgroup
// per (tile of DVT value columns, batch·head), every product on subgroup matrices. With pass 1's
// operands (prepare_mma.wgsl: q̃, k̃ and −w carry every per-row factor), a chunk is
//   vnew = u + (−w)·h                 delta; gla: vnew = v            C×DK · DK×DVT onto u
//   o    = q̃·h + P·vnew                                              C×DK · DK×DVT, C×C · C×DVT
//   h    ← carry·h + k̃ᵀ·vnew                                         DK×C · C×DVT
// and the only sequential work per chunk is these products and four barriers (two for gla):
//   1. the lanes write the last chunk's o, round h to f16 (the right matrix of the products) and
//      scale the f32 h by carry;
//   2. each subgroup multiplies its output tiles' q̃ (and −w) by h, from global memory straight
//      into matrices, the outputs staying in registers; delta stores vnew;
//   3. delta: the lanes round vnew to f16;
//   4. each subgroup adds P·vnew to its outputs and stores them, and updates its tiles of h
//      (loaded as result matrices, so the f32 state never rounds).
// The f32 state lives in workgroup memory, not in result matrices, because those are opaque: the
// lanes could not scale them by carry or round them to f16 for the next products.
// Like ../chunked/recur.wgsl, the output is computed here rather than in a third pass over stored
// per-chunk states (fla's layout), which would write and re-read B·H·⌈T/C⌉·DK·DV values.
// Measured on the H200 (T = 16384, H = 16, d = 128, value tiles of 16, four subgroups): about 5.7 µs
// per chunk step whatever the chunk (delta 2.90 ms for 512 steps at C = 32, gla 1.65 ms for 256 at
// C = 64), 1.7× and 2.2× faster than ../chunked/recur.wgsl's, and unchanged by where the global
// loads are issued (docs/kernels.md): the barriers, the state's rounding and the dependent products
// along d_k are what is left.

diagnostic(off, chromium.subgroup_matrix_uniformity);
diagnostic(off, subgroup_uniformity);
enable subgroups;
enable chromium_experimental_subgroup_matrix;

alias elem = f32;
alias half = f16;

const DK: u32 = 64u;
const DV: u32 = 64u;
const DVT: u32 = 32u;
const C: u32 = 32u;
const SM: u32 = 16u;
const SN: u32 = 16u;
const SK: u32 = 16u;
const SUBGROUP_SIZE: u32 = 32u;
const SGS: u32 = 4u;
const DELTA: bool = true;
// Output tiles (C/SM row blocks × DVT/SN column blocks) and state tiles (DK/SM × DVT/SN), and how
// many of each a subgroup takes at most: tile t goes to subgroup t % SGS.
const OUT_TILES: u32 = 2u;
const STATE_TILES: u32 = 8u;
const OT: u32 = 1u;
const HT: u32 = 2u;

// Matrices along d_k and along the chunk; delta's −w and u matrices (none for gla).
const KSTEPS: u32 = DK / SK;
const JSTEPS: u32 = C / SK;
const Q_MATS: u32 = OT * KSTEPS;
const W_MATS: u32 = OT * KSTEPS;
const U_MATS: u32 = OT;

const WG: u32 = SGS * SUBGROUP_SIZE;
const NBN: u32 = DVT / SN;

struct Params {
  seq: u32,
  chunks: u32,
  ks0: u32,
  pm0: u32,
  ws0: u32,
  vp0: u32,
  carry0: u32,
  qk_group: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> sh: array<half>;
@group(0) @binding(2) var<storage, read> sf: array<f32>;
@group(0) @binding(3) var<storage, read> s0: array<f32>;
@group(0) @binding(4) var<storage, read_write> o4: array<vec4<elem>>;
@group(0) @binding(5) var<storage, read_write> s_out: array<f32>;

// The state slice, row-major DK×DVT: f32, and its f16 rounding for the products.
var<workgroup> h32: array<f32, DK * DVT>;
var<workgroup> h16: array<half, DK * DVT>;
// vnew (delta) until it is rounded, then the chunk's output until the lanes write it.
var<workgroup> cv32: array<f32, C * DVT>;
var<workgroup> vn16: array<half, C * DVT>;

// The lanes write chunk ch's output tile from cv32 (rows past T dropped).
fn write_o(bh: u32, ch: u32, col0: u32, lid: u32) {
  let t0 = ch * C;
  let valid = min(C, params.seq - t0);
  for (var e4 = lid; e4 < valid * DVT / 4u; e4 += WG) {
    let e = 4u * e4;
    o4[((bh * params.seq + t0 + e / DVT) * DV + col0 + e % DVT) / 4u] = vec4<elem>(vec4<f32>(cv32[e], cv32[e + 1u], cv32[e + 2u], cv32[e + 3u]));
  }
}

// vnew's key block jt, value block n, as the right matrix: delta's from workgroup memory, gla's (v
// itself) from pass 1's chunk-padded copy.
fn vnew_tile(tp0: u32, jt: u32, n: u32, col0: u32) -> subgroup_matrix_right<half, SN, SK> {
  if (DELTA) {
    return subgroupMatrixLoad<subgroup_matrix_right<half, SN, SK>, row_major>(&vn16, jt * SK * DVT + n * SN, DVT);
  }
  return subgroupMatrixLoad<subgroup_matrix_right<half, SN, SK>, row_major>(&sh, params.vp0 + (tp0 + jt * SK) * DV + col0 + n * SN, DV);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32) {
  let bh = wid.y;
  let col0 = wid.x * DVT;
  let s_base = bh * DK * DV;
  let chunk0 = bh * params.chunks;
  for (var e = lid; e < DK * DVT; e += WG) {
    h32[e] = s0[s_base + (e / DVT) * DV + col0 + e % DVT];
  }

  // None of the global reads depends on the state, so each set is loaded for the next chunk right
  // after its last use in this one, and has most of a chunk step to arrive: q̃, −w, u and the decay
  // after step 2, P and k̃ᵀ after step 4. (On the H200 this neither sped nor slowed the step against
  // loading them where used: the step is not waiting on global memory.) Step s computes chunk s − 1
  // and loads chunk s (the last chunk again at the end, unused), so the loads are written once: step
  // 0 only loads.
  var qa: array<subgroup_matrix_left<half, SK, SM>, Q_MATS>;
  var wa: array<subgroup_matrix_left<half, SK, SM>, W_MATS>;
  var ua: array<subgroup_matrix_result<f32, SN, SM>, U_MATS>;
  var pa: array<subgroup_matrix_left<half, SK, SM>, OT * JSTEPS>;
  var ka: array<subgroup_matrix_left<half, SK, SM>, HT * JSTEPS>;
  var carry = 0.0f;
  var out: array<subgroup_matrix_result<f32, SN, SM>, OT>;

  for (var step = 0u; step <= params.chunks; step++) {
    let computing = step > 0u;
    let ch = step - 1u;
    let tp0 = (chunk0 + ch) * C;
    let load_tp0 = (chunk0 + min(step, params.chunks - 1u)) * C;
    if (computing) {
      workgroupBarrier();
      if (ch > 0u) {
        write_o(bh, ch - 1u, col0, lid);
      }
      for (var e = lid; e < DK * DVT; e += WG) {
        let x = h32[e];
        h16[e] = half(x);
        h32[e] = x * carry;
      }
      workgroupBarrier();

      // q̃·h into registers; delta: u + (−w)·h into cv32. Tile t of a subgroup: row block t / NBN,
      // column block t % NBN; past OUT_TILES (more subgroups than tiles) a subgroup only idles here.
      // @unroll
      for (var i = 0u; i < OT; i++) {
        let t = sg + i * SGS;
        let it = t / NBN;
        let n = t % NBN;
        var acc = subgroup_matrix_result<f32, SN, SM>();
        if (t < OUT_TILES) {
          var vn = subgroup_matrix_result<f32, SN, SM>();
          if (DELTA) {
            vn = ua[i];
          }
          // @unroll
          for (var kk = 0u; kk < KSTEPS; kk++) {
            let hb = subgroupMatrixLoad<subgroup_matrix_right<half, SN, SK>, row_major>(&h16, kk * SK * DVT + n * SN, DVT);
            acc = subgroupMatrixMultiplyAccumulate(qa[i * KSTEPS + kk], hb, acc);
            if (DELTA) {
              vn = subgroupMatrixMultiplyAccumulate(wa[i * KSTEPS + kk], hb, vn);
            }
          }
          if (DELTA) {
            subgroupMatrixStore<row_major>(&cv32, it * SM * DVT + n * SN, vn, DVT);
          }
        }
        out[i] = acc;
      }
    }

    // The next chunk's q̃ and −w matrices and u for this subgroup's output tiles (the last tile's
    // where it has fewer; unused).
    // @unroll
    for (var i = 0u; i < OT; i++) {
      let t = min(sg + i * SGS, OUT_TILES - 1u);
      let row = load_tp0 + (t / NBN) * SM;
      // @unroll
      for (var kk = 0u; kk < KSTEPS; kk++) {
        qa[i * KSTEPS + kk] = subgroupMatrixLoad<subgroup_matrix_left<half, SK, SM>, row_major>(&sh, row * DK + kk * SK, DK);
        if (DELTA) {
          wa[i * KSTEPS + kk] = subgroupMatrixLoad<subgroup_matrix_left<half, SK, SM>, row_major>(&sh, params.ws0 + row * DK + kk * SK, DK);
        }
      }
      if (DELTA) {
        ua[i] = subgroupMatrixLoad<subgroup_matrix_result<f32, SN, SM>, row_major>(&sf, row * DV + col0 + (t % NBN) * SN, DV);
      }
    }
    // And its decay, first needed after the next step's first barrier.
    carry = sf[params.carry0 + load_tp0 / C];

    if (computing) {
      if (DELTA) {
        workgroupBarrier();
        for (var e = lid; e < C * DVT; e += WG) {
          vn16[e] = half(cv32[e]);
        }
        workgroupBarrier();
      }

      // o += P·vnew over the key blocks up to the diagonal (P is causal), then out to cv32.
      // @unroll
      for (var i = 0u; i < OT; i++) {
        let t = sg + i * SGS;
        let it = t / NBN;
        let n = t % NBN;
        if (t < OUT_TILES) {
          var acc = out[i];
          // @unroll
          for (var jt = 0u; jt < JSTEPS; jt++) {
            if (jt <= it) {
              acc = subgroupMatrixMultiplyAccumulate(pa[i * JSTEPS + jt], vnew_tile(tp0, jt, n, col0), acc);
            }
          }
          subgroupMatrixStore<row_major>(&cv32, it * SM * DVT + n * SN, acc, DVT);
        }
      }

      // h ← carry·h (scaled in step 1) + k̃ᵀ·vnew, the f32 state loaded and stored as result matrices.
      // @unroll
      for (var i = 0u; i < HT; i++) {
        let t = sg + i * SGS;
        let mt = t / NBN;
        let n = t % NBN;
        if (t < STATE_TILES) {
          var acc = subgroupMatrixLoad<subgroup_matrix_result<f32, SN, SM>, row_major>(&h32, mt * SM * DVT + n * SN, DVT);
          // @unroll
          for (var jt = 0u; jt < JSTEPS; jt++) {
            acc = subgroupMatrixMultiplyAccumulate(ka[i * JSTEPS + jt], vnew_tile(tp0, jt, n, col0), acc);
          }
          subgroupMatrixStore<row_major>(&h32, mt * SM * DVT + n * SN, acc, DVT);
        }
      }
    }

    // The next chunk's P matrices for this subgroup's output tiles (blocks above the diagonal too,
    // unused) and k̃ᵀ's for its state tiles (pass 1 stores k̃ transposed: d_k rows of C).
    // @unroll
    for (var i = 0u; i < OT; i++) {
      let it = min(sg + i * SGS, OUT_TILES - 1u) / NBN;
      // @unroll
      for (var jt = 0u; jt < JSTEPS; jt++) {
        pa[i * JSTEPS + jt] = subgroupMatrixLoad<subgroup_matrix_left<half, SK, SM>, row_major>(&sh, params.pm0 + (load_tp0 + it * SM) * C + jt * SK, C);
      }
    }
    // @unroll
    for (var i = 0u; i < HT; i++) {
      let mt = min(sg + i * SGS, STATE_TILES - 1u) / NBN;
      // @unroll
      for (var jt = 0u; jt < JSTEPS; jt++) {
        ka[i * JSTEPS + jt] = subgroupMatrixLoad<subgroup_matrix_left<half, SK, SM>, row_major>(&sh, params.ks0 + load_tp0 * DK + mt * SM * C + jt * SK, C);
      }
    }
  }
  workgroupBarrier();
  if (params.chunks > 0u) {
    write_o(bh, params.chunks - 1u, col0, lid);
  }
  for (var e = lid; e < DK * DVT; e += WG) {
    s_out[s_base + (e / DVT) * DV + col0 + e % DVT] = h32[e];
  }
}
