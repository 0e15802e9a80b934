// Pass 2 of the chunked kernel: the state recurrence across chunks and the output, for one
// (batch·head, tile of DVT value columns) per workgroup; its DK×DVT state slice stays on chip
// (registers for the update, a workgroup copy for the reads). Per chunk, from pass 1's P, w, u, fac:
//   vnew = u − w·h           (delta; gla: vnew = v)                   C×DK by DK×DVT
//   o    = 2^G∘(s·q̂)·h + P·vnew                                       C×DK by DK×DVT, C×C by C×DVT
//   h    ← 2^G_last·h + (2^(G_last−G)∘k̂)ᵀ·vnew                        DK×C by C×DVT
// Every global read of the chunk's q, w, P, k and decay factors is a cooperative, coalesced load into
// workgroup memory: read where used, one dependent global load after another, they left the loop
// latency-bound (H200, T = 16384, H = 16, d = 128: 21 µs per chunk, 11 ms for the recurrence). The
// output needs h before the
// update, so computing it here (instead of fla's third pass over stored per-chunk states) saves
// writing and re-reading B·H·⌈T/C⌉·DK·DV floats (1 GiB at T = 65536, H = 16, d = 128).
// @if PREFETCH
// PREFETCH pipelines the loop. Staged one phase at a time, those loads still put a global round trip
// (and its barriers) per phase on the critical path: ~12 µs per chunk on the H200 at the shape above
// and C = 32, 6 of the kernel's 7.6 ms. None of them depends on the state, and every chunk stages the
// same NF fills in the same order (NS q/w slabs, P, NR k runs), so each fill is loaded into registers
// (`pre`) PD fills before its turn, from the next chunk where that runs past this one's last fill; a
// phase then only stores registers whose loads were in flight through the PD phases before it. u (or
// v) and the decay factors, read once per chunk, are loaded a whole chunk ahead. Every chunk runs all
// NR k runs (empty past T) so that the unrolled fills index `pre` with constants: registers, not
// local memory. Wider slabs (SL4, the host's `slab`) make fewer fills, so fewer barriers, per chunk.
// Measured there: 6.2 ms → 3.7 ms with all seven fills ahead; wider slabs were slower.
// @endif

alias elem = f32;
// What binding 3 holds: u (f32) for delta, v (elem) for gla.
alias uv_elem = f32;

const DK: u32 = 64u;
const DV: u32 = 64u;
const DVT: u32 = 16u;
const C: u32 = 64u;
const WG: u32 = 256u;
// (token, column) outputs per invocation, all in one column (WG is a multiple of DVT).
const OWN: u32 = 4u;
// (4 state rows, column) units of the state per invocation.
const OWNH: u32 = 2u;
const DELTA: bool = true;
// Feature vec4s of q and w per staged slab, and the staging buffer's vec4s (q and w slabs, or P, or
// a run of k rows: whichever the phase needs).
const SL4: u32 = 8u;
const STAGE4: u32 = 1024u;
// k rows per staged run in the state update.
const KJ: u32 = 32u;
// Value heads per query/key head (GVA): q and k rows come from head bh / QK_GROUP.
const QK_GROUP: u32 = 1u;
// @if PREFETCH
// Fills per chunk: NS slabs of q and w, then P, then NR runs of k.
const NS: u32 = 4u;
const NR: u32 = 2u;
const NF: u32 = 7u;
// Fills whose loads are in flight ahead of their turn (1 ≤ PD ≤ NF).
const PD: u32 = 1u;
// vec4s each invocation loads per fill: of q (and as many of w) per slab, of P, of k per run; one
// register slot holds any fill (a slab's q at 0.., its w at PFQ..).
const PFQ: u32 = 1u;
const PFP: u32 = 1u;
const PFK: u32 = 2u;
const PFN: u32 = 2u;
// Each invocation prefetches at most one vec4 of decay factors.
const_assert C <= WG;
// @endif

const DK4: u32 = DK / 4u;
const C4: u32 = C / 4u;

struct Params {
  seq: u32,
  chunks: u32,
  fac0: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<elem>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<elem>>;
// delta: u from pass 1 (f32); gla: v itself (elem), the same indexing by (token, column).
@group(0) @binding(3) var<storage, read> uv: array<uv_elem>;
@group(0) @binding(4) var<storage, read> s0: array<f32>;
@group(0) @binding(5) var<storage, read> pf: array<vec4<f32>>;
// gla binds pf here too and never reads it.
@group(0) @binding(6) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> o: array<elem>;
@group(0) @binding(8) var<storage, read_write> s_out: array<f32>;

// The state slice as 4-row vec4s: h_tile[r4 * DVT + c] = h[4r4 .. 4r4+3][c].
var<workgroup> h_tile: array<vec4<f32>, DK4 * DVT>;
var<workgroup> vn_tile: array<f32, C * DVT>;
var<workgroup> fac_tile: array<vec4<f32>, C>;
var<workgroup> stage: array<vec4<f32>, STAGE4>;
// @if PREFETCH

// Where a chunk's rows start: its first token row (v, o), its first q and k row, and its
// chunk-padded row (P, w, u); its tokens.
struct ChunkAt {
  row0: u32,
  qk0: u32,
  tp0: u32,
  valid: u32,
}

fn chunk_at(bh: u32, ch: u32) -> ChunkAt {
  let t0 = ch * C;
  return ChunkAt(bh * params.seq + t0, (bh / QK_GROUP) * params.seq + t0, (bh * params.chunks + ch) * C, min(C, params.seq - t0));
}

// This invocation's share of fill g of a chunk: the elements fill_store writes, rows past the
// chunk's end clamped to its last row (in bounds; dropped where used).
fn fill_load(g: u32, at: ChunkAt, lid: u32) -> array<vec4<f32>, PFN> {
  var x = array<vec4<f32>, PFN>();
  if (g < NS) {
    let s4 = g * SL4;
    // @unroll
    for (var m = 0u; m < PFQ; m++) {
      let e = lid + m * WG;
      if (e < C * SL4) {
        let i = min(e / SL4, at.valid - 1u);
        let f4 = min(s4 + e % SL4, DK4 - 1u);
        x[m] = vec4<f32>(q[(at.qk0 + i) * DK4 + f4]);
        if (DELTA) {
          x[PFQ + m] = w[(at.tp0 + i) * DK4 + f4];
        }
      }
    }
  } else if (g == NS) {
    // @unroll
    for (var m = 0u; m < PFP; m++) {
      let e = lid + m * WG;
      if (e < C * C4) {
        x[m] = pf[at.tp0 * C4 + e];
      }
    }
  } else {
    let j0 = (g - NS - 1u) * KJ;
    // @unroll
    for (var m = 0u; m < PFK; m++) {
      let e = lid + m * WG;
      if (e < KJ * DK4) {
        let j = min(j0 + e / DK4, at.valid - 1u);
        x[m] = vec4<f32>(k[(at.qk0 + j) * DK4 + e % DK4]);
      }
    }
  }
  return x;
}

// Fill g into the staging buffer, laid out as the unpipelined loop stages it.
fn fill_store(g: u32, x: array<vec4<f32>, PFN>, lid: u32) {
  if (g < NS) {
    // @unroll
    for (var m = 0u; m < PFQ; m++) {
      let e = lid + m * WG;
      if (e < C * SL4) {
        stage[e] = x[m];
        if (DELTA) {
          stage[C * SL4 + e] = x[PFQ + m];
        }
      }
    }
  } else {
    // P or a k run: PFP or PFK vec4s per invocation, both at most PFN.
    let n = select(KJ * DK4, C * C4, g == NS);
    // @unroll
    for (var m = 0u; m < PFN; m++) {
      let e = lid + m * WG;
      if (e < n) {
        stage[e] = x[m];
      }
    }
  }
}

// This invocation's u (delta) or v (gla) values of a chunk, zero past its end or the last column.
fn uv_load(at: ChunkAt, lid: u32, col: u32, live: bool) -> array<f32, OWN> {
  var x = array<f32, OWN>();
  // @unroll
  for (var n = 0u; n < OWN; n++) {
    let i = (lid + n * WG) / DVT;
    if (i < at.valid && live) {
      if (DELTA) {
        x[n] = f32(uv[(at.tp0 + i) * DV + col]);
      } else {
        x[n] = f32(uv[(at.row0 + i) * DV + col]);
      }
    }
  }
  return x;
}
// @endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bh = wid.y;
  let col0 = wid.x * DVT;
  let seq = params.seq;
  let s_base = bh * DK * DV;
  let c = lid % DVT;
  let col = col0 + c;
  let live = col < DV;
  let colc = min(col, DV - 1u);

  var h: array<vec4<f32>, OWNH>;
  // @unroll
  for (var n = 0u; n < OWNH; n++) {
    let r4 = (lid + n * WG) / DVT;
    var x = vec4<f32>(0.0f);
    if (r4 < DK4 && live) {
      let at = s_base + 4u * r4 * DV + col;
      x = vec4<f32>(s0[at], s0[at + DV], s0[at + 2u * DV], s0[at + 3u * DV]);
    }
    h[n] = x;
    if (r4 < DK4) {
      h_tile[r4 * DVT + c] = x;
    }
  }

  // @if PREFETCH
  var pre = array<array<vec4<f32>, PFN>, NF>();
  var uv_pre = array<f32, OWN>();
  var fac_pre = vec4<f32>(0.0f);
  {
    let at = chunk_at(bh, 0u);
    // @unroll
    for (var g = 0u; g < PD; g++) {
      pre[g] = fill_load(g, at, lid);
    }
    uv_pre = uv_load(at, lid, col, live);
    if (lid < C) {
      fac_pre = pf[params.fac0 / 4u + at.tp0 + lid];
    }
  }

  for (var ch = 0u; ch < params.chunks; ch++) {
    let at = chunk_at(bh, ch);
    let valid = at.valid;
    let has_next = ch + 1u < params.chunks;
    let next = chunk_at(bh, min(ch + 1u, params.chunks - 1u));

    // The previous chunk's last reads of fac_tile came before the barrier that ended it.
    if (lid < C) {
      fac_tile[lid] = fac_pre;
      if (has_next) {
        fac_pre = pf[params.fac0 / 4u + next.tp0 + lid];
      }
    }

    // vnew and the inter-chunk output over the q and w slabs, as below without PREFETCH. Each
    // phase stores its fill, then issues the loads of the fill PD ahead (in this chunk or the next)
    // before the barrier, so that they overlap it and the compute.
    var acc_q = array<f32, OWN>();
    var acc_w = array<f32, OWN>();
    // @unroll
    for (var f = 0u; f < NS; f++) {
      workgroupBarrier();
      fill_store(f, pre[f], lid);
      if (f + PD < NF) {
        pre[(f + PD) % NF] = fill_load(f + PD, at, lid);
      } else if (has_next) {
        pre[(f + PD) % NF] = fill_load((f + PD) % NF, next, lid);
      }
      workgroupBarrier();
      let s4 = f * SL4;
      let width = min(SL4, DK4 - s4);
      for (var r = 0u; r < width; r++) {
        let hv = h_tile[(s4 + r) * DVT + c];
        // @unroll
        for (var n = 0u; n < OWN; n++) {
          let i = min((lid + n * WG) / DVT, C - 1u);
          acc_q[n] += dot(stage[i * SL4 + r], hv);
          if (DELTA) {
            acc_w[n] += dot(stage[C * SL4 + i * SL4 + r], hv);
          }
        }
      }
    }
    workgroupBarrier();
    fill_store(NS, pre[NS], lid);
    if (NS + PD < NF) {
      pre[(NS + PD) % NF] = fill_load(NS + PD, at, lid);
    } else if (has_next) {
      pre[(NS + PD) % NF] = fill_load((NS + PD) % NF, next, lid);
    }
    var oq = array<f32, OWN>();
    // @unroll
    for (var n = 0u; n < OWN; n++) {
      let i = (lid + n * WG) / DVT;
      if (i < valid) {
        let fac = fac_tile[i];
        oq[n] = acc_q[n] * fac.x * fac.w;
      }
      if (i < C) {
        var x = 0.0f;
        if (i < valid && live) {
          if (DELTA) {
            x = uv_pre[n] - acc_w[n];
          } else {
            x = uv_pre[n];
          }
        }
        vn_tile[i * DVT + c] = x;
      }
    }
    if (has_next) {
      uv_pre = uv_load(next, lid, col, live);
    }
    workgroupBarrier();

    // @unroll
    for (var n = 0u; n < OWN; n++) {
      let i = (lid + n * WG) / DVT;
      if (i < valid) {
        var acc = oq[n];
        let prow = i * C4;
        for (var j4 = 0u; j4 <= i / 4u; j4++) {
          let p = stage[prow + j4];
          let j = 4u * j4;
          acc += p.x * vn_tile[j * DVT + c] + p.y * vn_tile[(j + 1u) * DVT + c] + p.z * vn_tile[(j + 2u) * DVT + c] + p.w * vn_tile[(j + 3u) * DVT + c];
        }
        if (live) {
          o[(at.row0 + i) * DV + col] = elem(acc);
        }
      }
    }

    // The state update over NR runs of KJ k rows; runs past the chunk's end (in T's last chunk only)
    // are empty but keep their barriers and fills.
    let carry = fac_tile[C - 1u].x;
    // @unroll
    for (var n = 0u; n < OWNH; n++) {
      h[n] *= carry;
    }
    // @unroll
    for (var kr = 0u; kr < NR; kr++) {
      workgroupBarrier();
      fill_store(NS + 1u + kr, pre[NS + 1u + kr], lid);
      if (NS + 1u + kr + PD < NF) {
        pre[(NS + 1u + kr + PD) % NF] = fill_load(NS + 1u + kr + PD, at, lid);
      } else if (has_next) {
        pre[(NS + 1u + kr + PD) % NF] = fill_load((NS + 1u + kr + PD) % NF, next, lid);
      }
      workgroupBarrier();
      let j0 = kr * KJ;
      let run = select(0u, min(KJ, valid - j0), j0 < valid);
      for (var jj = 0u; jj < run; jj++) {
        let j = j0 + jj;
        let fac = fac_tile[j];
        let x = fac.y * fac.z * vn_tile[j * DVT + c];
        // @unroll
        for (var n = 0u; n < OWNH; n++) {
          let r4 = min((lid + n * WG) / DVT, DK4 - 1u);
          h[n] += x * stage[jj * DK4 + r4];
        }
      }
    }
    workgroupBarrier();
    // @unroll
    for (var n = 0u; n < OWNH; n++) {
      let r4 = (lid + n * WG) / DVT;
      if (r4 < DK4) {
        h_tile[r4 * DVT + c] = h[n];
      }
    }
  }
  // @else
  for (var ch = 0u; ch < params.chunks; ch++) {
    let t0 = ch * C;
    let row0 = bh * seq + t0;
    let qk0 = (bh / QK_GROUP) * seq + t0;
    let valid = min(C, seq - t0);
    let tp0 = (bh * params.chunks + ch) * C;
    let fac0 = params.fac0 / 4u + tp0;

    for (var i = lid; i < C; i += WG) {
      fac_tile[i] = pf[fac0 + i];
    }

    // vnew and the inter-chunk output, both from the state before this chunk's update, over slabs
    // of SL4 feature vec4s of q and w staged for the whole chunk. Rows past the chunk's end stage
    // its last row (in bounds) and are dropped below.
    // Explicit zeros: Dawn on SwiftShader kept a loop-scoped `var acc: array<…>;` from the previous
    // chunk (it zeroes such a declaration once, not per iteration), which the tests caught.
    var acc_q = array<f32, OWN>();
    var acc_w = array<f32, OWN>();
    for (var s4 = 0u; s4 < DK4; s4 += SL4) {
      workgroupBarrier();
      for (var e = lid; e < C * SL4; e += WG) {
        let i = min(e / SL4, valid - 1u);
        let f4 = min(s4 + e % SL4, DK4 - 1u);
        stage[e] = vec4<f32>(q[(qk0 + i) * DK4 + f4]);
        if (DELTA) {
          stage[C * SL4 + e] = w[(tp0 + i) * DK4 + f4];
        }
      }
      workgroupBarrier();
      let width = min(SL4, DK4 - s4);
      for (var r = 0u; r < width; r++) {
        let hv = h_tile[(s4 + r) * DVT + c];
        // @unroll
        for (var n = 0u; n < OWN; n++) {
          let i = min((lid + n * WG) / DVT, C - 1u);
          acc_q[n] += dot(stage[i * SL4 + r], hv);
          if (DELTA) {
            acc_w[n] += dot(stage[C * SL4 + i * SL4 + r], hv);
          }
        }
      }
    }
    workgroupBarrier();
    // Everyone is done with the q and w slabs: P takes the staging buffer (C×C, zero above the diagonal).
    for (var e = lid; e < C * C4; e += WG) {
      stage[e] = pf[tp0 * C4 + e];
    }
    var oq = array<f32, OWN>();
    // @unroll
    for (var n = 0u; n < OWN; n++) {
      let i = (lid + n * WG) / DVT;
      if (i < valid) {
        let fac = fac_tile[i];
        oq[n] = acc_q[n] * fac.x * fac.w;
      }
      if (i < C) {
        var x = 0.0f;
        if (i < valid && live) {
          if (DELTA) {
            x = f32(uv[(tp0 + i) * DV + col]) - acc_w[n];
          } else {
            x = f32(uv[(row0 + i) * DV + col]);
          }
        }
        vn_tile[i * DVT + c] = x;
      }
    }
    workgroupBarrier();

    // o = oq + P·vnew over j ≤ i, four j per vec4 of P.
    // @unroll
    for (var n = 0u; n < OWN; n++) {
      let i = (lid + n * WG) / DVT;
      if (i < valid) {
        var acc = oq[n];
        let prow = i * C4;
        for (var j4 = 0u; j4 <= i / 4u; j4++) {
          let p = stage[prow + j4];
          let j = 4u * j4;
          acc += p.x * vn_tile[j * DVT + c] + p.y * vn_tile[(j + 1u) * DVT + c] + p.z * vn_tile[(j + 2u) * DVT + c] + p.w * vn_tile[(j + 3u) * DVT + c];
        }
        if (live) {
          o[(row0 + i) * DV + col] = elem(acc);
        }
      }
    }

    // h ← 2^G_last·h + Σⱼ (2^(G_last−Gⱼ)/‖kⱼ‖)·kⱼ·vnewⱼ, four state rows per vec4 of k, over runs of
    // KJ k rows staged whole; the j loop is outside so each decay factor and vnew value is read once
    // for all OWNH units.
    let carry = fac_tile[C - 1u].x;
    // @unroll
    for (var n = 0u; n < OWNH; n++) {
      h[n] *= carry;
    }
    for (var j0 = 0u; j0 < valid; j0 += KJ) {
      workgroupBarrier();
      for (var e = lid; e < KJ * DK4; e += WG) {
        let j = min(j0 + e / DK4, valid - 1u);
        stage[e] = vec4<f32>(k[(qk0 + j) * DK4 + e % DK4]);
      }
      workgroupBarrier();
      let run = min(KJ, valid - j0);
      for (var jj = 0u; jj < run; jj++) {
        let j = j0 + jj;
        let fac = fac_tile[j];
        let x = fac.y * fac.z * vn_tile[j * DVT + c];
        // @unroll
        for (var n = 0u; n < OWNH; n++) {
          let r4 = min((lid + n * WG) / DVT, DK4 - 1u);
          h[n] += x * stage[jj * DK4 + r4];
        }
      }
    }
    workgroupBarrier();
    // @unroll
    for (var n = 0u; n < OWNH; n++) {
      let r4 = (lid + n * WG) / DVT;
      if (r4 < DK4) {
        h_tile[r4 * DVT + c] = h[n];
      }
    }
  }
  // @endif

  // @unroll
  for (var n = 0u; n < OWNH; n++) {
    let r4 = (lid + n * WG) / DVT;
    if (r4 < DK4 && live) {
      let at = s_base + 4u * r4 * DV + col;
      s_out[at] = h[n].x;
      s_out[at + DV] = h[n].y;
      s_out[at + 2u * DV] = h[n].z;
      s_out[at + 3u * DV] = h[n].w;
    }
  }
}
