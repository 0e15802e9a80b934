// FlashAttention-2 forward pass, f32. One workgroup per (batch, head, tile of BR query rows). The
// query tile stays in workgroup memory for the whole run; key and value tiles of BC rows stream
// through one shared buffer (K, then V); each query row keeps a running max and sum in registers,
// rescales its output accumulator when the max moves, and divides by the sum once at the end.
// S and P never leave the chip: global traffic is Q and O once, K and V once per query tile.
//
// Work split: the WORKGROUP_SIZE invocations form ROW_GROUPS groups of ROW_THREADS. Row group rg
// owns query rows rg, rg + ROW_GROUPS, ... (TM of them); lane g of the group owns keys g,
// g + ROW_THREADS, ... of each tile (TN of them) and output vec4 columns g, g + ROW_THREADS, ...
// (TD4 of them). Each invocation thus computes a TM × TN block of S and a TM × 4·TD4 block of O
// in registers: every value it loads from workgroup memory feeds TM or TN multiply-adds, which is
// what keeps the kernel off the shared-memory bandwidth limit. A row's max and sum are split over
// ROW_THREADS lanes and reduced by reduce_max_rows / reduce_sum_rows, from
// flash_row_reduce_subgroup.wgsl (shuffles) or flash_row_reduce_workgroup.wgsl (workgroup memory).
//
// Workgroup-memory layouts are chosen so that the hot loops need no address arithmetic beyond
// constant offsets and hit no bank conflicts, without padding (which would cost the memory that
// 64-row tiles need at d = 64): K is stored transposed, [d/4][key], so the ROW_THREADS lanes that
// read one head-dim slice of their different keys read consecutive vec4s; V and Q are row-major
// (lanes of a row group read one V row's consecutive columns, or the same Q element); P, written
// by lanes of different keys, has its slots XOR-swizzled by the key.
//
// Latency and barriers: with PREFETCH, each K or V tile is fetched from global memory into
// registers one phase ahead (V during the QKᵀ of its tile, the next K during PV) and only stored
// to workgroup memory after the barrier, so the loads' latency overlaps arithmetic instead of
// stalling every warp. STAGES = 1 keeps one K/V tile and one P tile (four barriers per key tile);
// STAGES = 2 double-buffers K, V and P so that a tile needs a single barrier: the next tile's K
// is stored while this tile's scores are computed, its V while this tile's P·V runs.
// Loops over the register tiles are marked @unroll: the host expands them (src/specialize.ts) so
// every index into a register array is a constant, whatever the driver's unrolling heuristics.
//
// Scores are in log2 units: Q is pre-multiplied by scale·log2(e) as it is loaded, so the softmax
// uses exp2. Masked scores are MASKED, a finite stand-in for −∞ (WGSL lets GPUs assume no
// infinities); running maxima start at M_INIT, far above MASKED, so exp2(MASKED − max) is 0 even
// for a row that has seen only masked keys, and such a row ends with sum 0 and output 0.

const HEAD_DIM: u32 = 64u;
const BR: u32 = 64u;
const BC: u32 = 32u;
const WORKGROUP_SIZE: u32 = 128u;
const ROW_THREADS: u32 = 8u;
const PREFETCH: bool = true;
const STAGES: u32 = 1u;
// Unroll factor of the QKᵀ loop over head-dim vec4s and of the PV loop over keys.
const UNROLL: u32 = 4u;
// XOR-swizzle Q rows (1) or not (0): decides whether row groups that share a quarter warp read
// Q without bank conflicts.
const Q_SWIZZLE: u32 = 0u;

const D4: u32 = HEAD_DIM / 4u;
const ROW_GROUPS: u32 = WORKGROUP_SIZE / ROW_THREADS;
const TM: u32 = BR / ROW_GROUPS;
const TN: u32 = BC / ROW_THREADS;
const TD4: u32 = D4 / ROW_THREADS;
const TMTN: u32 = TM * TN;
// P is stored per key as [row group][TM] values, in vec4s (TM4 per row group).
const TM4: u32 = (TM + 3u) / 4u;
const P_WIDTH4: u32 = ROW_GROUPS * TM4;
// vec4s of a K or V tile each invocation carries from global to workgroup memory.
const STAGE: u32 = (BC * D4 + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
// Tiles in workgroup memory: one shared K/V tile, or K0, K1, V0, V1; one or two P tiles.
const KV_TILE: u32 = BC * D4;
const KV_TILES: u32 = select(1u, 4u, STAGES == 2u);
const P_TILE: u32 = BC * P_WIDTH4;
// XOR mask of the P swizzle: the largest power of two (at most 8) dividing its width, minus 1.
const P_SWIZZLE: u32 = min(P_WIDTH4 & (~P_WIDTH4 + 1u), 8u) - 1u;
const C_UNROLL: u32 = min(UNROLL, D4);
const J_UNROLL: u32 = min(UNROLL, BC);
const Q_MASK: u32 = select(0u, min(D4 & (~D4 + 1u), 8u) - 1u, Q_SWIZZLE != 0u);
const MASKED: f32 = -3.0e38f;
const M_INIT: f32 = -1.0e30f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> q_tile: array<vec4<f32>, BR * D4>;
var<workgroup> kv_tile: array<vec4<f32>, KV_TILES * KV_TILE>;
var<workgroup> p_tile: array<vec4<f32>, STAGES * P_TILE>;

/** One query row group's running softmax state: output accumulators, row maxima and partial sums. */
struct RowState {
  acc: array<vec4<f32>, TM * TD4>,
  m: array<f32, TM>,
  l: array<f32, TM>,
}

fn q_index(row: u32, col4: u32) -> u32 {
  return row * D4 + (col4 ^ (row & Q_MASK));
}

fn p_index(key: u32, slot4: u32) -> u32 {
  return key * P_WIDTH4 + (slot4 ^ (key & P_SWIZZLE));
}

// Where element idx of an invocation's share of a K or V tile comes from (row, vec4 column) and
// goes to in kv_tile. For K, consecutive invocations take consecutive keys, so their stores into
// the transposed layout are consecutive; for V, consecutive columns of a row (coalesced loads).
fn kv_row(src_is_k: bool, idx: u32) -> u32 {
  return select(idx / D4, idx % BC, src_is_k);
}

fn kv_col(src_is_k: bool, idx: u32) -> u32 {
  return select(idx % D4, idx / BC, src_is_k);
}

// Reads this invocation's share of rows [row0, row0 + BC) of K or V (zero past seq_k) into
// registers. Every invocation runs the same iterations, so the loads issue back to back.
fn fetch_kv_tile(src_is_k: bool, base: u32, row0: u32, lid: u32) -> array<vec4<f32>, STAGE> {
  var staged: array<vec4<f32>, STAGE>;
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    let r = kv_row(src_is_k, idx);
    var val = vec4<f32>(0.0);
    if ((BC * D4 % WORKGROUP_SIZE == 0u || idx < BC * D4) && row0 + r < p.seq_k) {
      let at = base + (row0 + r) * D4 + kv_col(src_is_k, idx);
      if (src_is_k) {
        val = k[at];
      } else {
        val = v[at];
      }
    }
    staged[it] = val;
  }
  return staged;
}

// Stores a staged K tile transposed ([d/4][key]) or a V tile row-major ([key][d/4]) at `off`.
fn store_kv_tile(src_is_k: bool, staged: array<vec4<f32>, STAGE>, lid: u32, off: u32) {
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BC * D4 % WORKGROUP_SIZE == 0u || idx < BC * D4) {
      let r = kv_row(src_is_k, idx);
      let c = kv_col(src_is_k, idx);
      kv_tile[off + select(r * D4 + c, c * BC + r, src_is_k)] = staged[it];
    }
  }
}

// S = Q Kᵀ for this invocation's TM × TN block, 4 head-dim columns at a time, as explicit fma
// chains (dot() plus an add would cost a fifth more instructions). K is the tile at k_off.
fn scores(k_off: u32, rg: u32, g: u32) -> array<f32, TMTN> {
  var s: array<f32, TMTN>;
  // @unroll
  for (var i = 0u; i < TMTN; i++) {
    s[i] = 0.0;
  }
  for (var c0 = 0u; c0 < D4 / C_UNROLL; c0++) {
    // @unroll
    for (var cc = 0u; cc < C_UNROLL; cc++) {
      let c = c0 * C_UNROLL + cc;
      var qv: array<vec4<f32>, TM>;
      // @unroll
      for (var m = 0u; m < TM; m++) {
        qv[m] = q_tile[q_index(m * ROW_GROUPS + rg, c)];
      }
      // @unroll
      for (var n = 0u; n < TN; n++) {
        let kv = kv_tile[k_off + c * BC + n * ROW_THREADS + g];
        // @unroll
        for (var m = 0u; m < TM; m++) {
          let a = qv[m];
          s[m * TN + n] = fma(a.w, kv.w, fma(a.z, kv.z, fma(a.y, kv.y, fma(a.x, kv.x, s[m * TN + n]))));
        }
      }
    }
  }
  return s;
}

// Only tiles past the end of K or crossing the causal diagonal need the element-wise mask; the
// condition is the same for the whole workgroup.
fn mask_scores(s: ptr<function, array<f32, TMTN>>, k0: u32, row0: u32, rg: u32, g: u32) {
  let past_end = k0 + BC > p.seq_k;
  let on_diagonal = p.causal != 0u && i32(k0 + BC - 1u) > i32(row0) + p.causal_offset;
  if (past_end || on_diagonal) {
    // @unroll
    for (var m = 0u; m < TM; m++) {
      let limit = i32(row0 + m * ROW_GROUPS + rg) + p.causal_offset;
      // @unroll
      for (var n = 0u; n < TN; n++) {
        let key = k0 + n * ROW_THREADS + g;
        if (key >= p.seq_k || (p.causal != 0u && i32(key) > limit)) {
          (*s)[m * TN + n] = MASKED;
        }
      }
    }
  }
}

// Online softmax of one tile: new row maxima (reduced over the row group), rescale of the sums
// and accumulators, P = exp2(S − max) written to the P tile at p_off.
fn softmax_tile(s: ptr<function, array<f32, TMTN>>, st: ptr<function, RowState>, p_off: u32, lid: u32, rg: u32, g: u32) {
  var part: array<f32, TM>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    var x = (*s)[m * TN];
    // @unroll
    for (var n = 0u; n < TN; n++) {
      x = max(x, (*s)[m * TN + n]);
    }
    part[m] = x;
  }
  let tile_max = reduce_max_rows(part, lid);
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let m_new = max((*st).m[m], tile_max[m]);
    let alpha = exp2((*st).m[m] - m_new);
    (*st).m[m] = m_new;
    var l = (*st).l[m] * alpha;
    // @unroll
    for (var d = 0u; d < TD4; d++) {
      (*st).acc[m * TD4 + d] *= alpha;
    }
    // @unroll
    for (var n = 0u; n < TN; n++) {
      let e = exp2((*s)[m * TN + n] - m_new);
      l += e;
      p_tile[p_off + p_index(n * ROW_THREADS + g, rg * TM4 + m / 4u)][m % 4u] = e;
    }
    (*st).l[m] = l;
  }
}

// O += P V: per key, this invocation's TM probabilities times its TD4 vec4s of the V row. Keys
// past seq_k have P = 0 and V = 0, so the last tile needs no special case.
fn pv_tile(st: ptr<function, RowState>, p_off: u32, v_off: u32, rg: u32, g: u32) {
  for (var j0 = 0u; j0 < BC / J_UNROLL; j0++) {
    // @unroll
    for (var jj = 0u; jj < J_UNROLL; jj++) {
      let j = j0 * J_UNROLL + jj;
      // P of this key for the invocation's rows, TM4 vec4s (lanes past TM unused when TM < 4).
      var pv: array<vec4<f32>, TM4>;
      // @unroll
      for (var m4 = 0u; m4 < TM4; m4++) {
        pv[m4] = p_tile[p_off + p_index(j, rg * TM4 + m4)];
      }
      // @unroll
      for (var d = 0u; d < TD4; d++) {
        let vv = kv_tile[v_off + j * D4 + d * ROW_THREADS + g];
        // @unroll
        for (var m = 0u; m < TM; m++) {
          (*st).acc[m * TD4 + d] = fma(vec4<f32>(pv[m / 4u][m % 4u]), vv, (*st).acc[m * TD4 + d]);
        }
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let h = wid.y;
  let row0 = wid.x * BR;
  let q_base = (b * p.heads + h) * p.seq_q * D4;
  let kv_base = (b * p.kv_heads + h / p.group_size) * p.seq_k * D4;
  let rg = lid / ROW_THREADS;
  let g = lid % ROW_THREADS;

  for (var it = 0u; it < (BR * D4 + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BR * D4 % WORKGROUP_SIZE == 0u || idx < BR * D4) {
      let r = idx / D4;
      let c = idx % D4;
      var val = vec4<f32>(0.0);
      if (row0 + r < p.seq_q) {
        val = q[q_base + (row0 + r) * D4 + c] * p.scale_log2;
      }
      q_tile[q_index(r, c)] = val;
    }
  }

  // Keys this workgroup can see: all of them, or with the causal mask up to the last row's limit.
  let row_end = min(row0 + BR, p.seq_q);
  var k_end = p.seq_k;
  if (p.causal != 0u) {
    k_end = u32(clamp(i32(row_end) + p.causal_offset, 0, i32(p.seq_k)));
  }
  let tiles = (k_end + BC - 1u) / BC;

  var st: RowState;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    st.m[m] = M_INIT;
    st.l[m] = 0.0;
    // @unroll
    for (var d = 0u; d < TD4; d++) {
      st.acc[m * TD4 + d] = vec4<f32>(0.0);
    }
  }

  var staged: array<vec4<f32>, STAGE>;
  if (STAGES == 2u) {
    // Double-buffered: tile t uses K buffer t % 2, V buffer 2 + t % 2 and P buffer t % 2; one
    // barrier per tile. A buffer is overwritten only after the barrier that follows its last read.
    if (tiles > 0u) {
      store_kv_tile(true, fetch_kv_tile(true, kv_base, 0u, lid), lid, 0u);
      store_kv_tile(false, fetch_kv_tile(false, kv_base, 0u, lid), lid, 2u * KV_TILE);
    }
    if (tiles > 1u) {
      staged = fetch_kv_tile(true, kv_base, BC, lid);
    }
    workgroupBarrier();
    for (var t = 0u; t < tiles; t++) {
      let cur = t % 2u;
      let nxt = 1u - cur;
      var s = scores(cur * KV_TILE, rg, g);
      mask_scores(&s, t * BC, row0, rg, g);
      softmax_tile(&s, &st, cur * P_TILE, lid, rg, g);
      if (t + 1u < tiles) {
        store_kv_tile(true, staged, lid, nxt * KV_TILE); // K of the next tile (its buffer's last reader was tile t − 1)
        staged = fetch_kv_tile(false, kv_base, (t + 1u) * BC, lid);
      }
      workgroupBarrier(); // P of this tile and K of the next are complete
      pv_tile(&st, cur * P_TILE, (2u + cur) * KV_TILE, rg, g);
      if (t + 1u < tiles) {
        store_kv_tile(false, staged, lid, (2u + nxt) * KV_TILE); // V of the next tile, read after the next barrier
        if (t + 2u < tiles) {
          staged = fetch_kv_tile(true, kv_base, (t + 2u) * BC, lid);
        }
      }
    }
  } else {
    // One K/V tile and one P tile: four barriers per key tile.
    if (PREFETCH && tiles > 0u) {
      staged = fetch_kv_tile(true, kv_base, 0u, lid);
    }
    for (var t = 0u; t < tiles; t++) {
      let k0 = t * BC;
      workgroupBarrier(); // the previous tile's reads of kv_tile (V) and p_tile are done
      if (!PREFETCH) {
        staged = fetch_kv_tile(true, kv_base, k0, lid);
      }
      store_kv_tile(true, staged, lid, 0u);
      workgroupBarrier();
      if (PREFETCH) {
        staged = fetch_kv_tile(false, kv_base, k0, lid); // V of this tile, in flight during QKᵀ
      }
      var s = scores(0u, rg, g);
      mask_scores(&s, k0, row0, rg, g);
      softmax_tile(&s, &st, 0u, lid, rg, g);
      workgroupBarrier(); // every invocation is done reading K from kv_tile, and P is complete
      if (!PREFETCH) {
        staged = fetch_kv_tile(false, kv_base, k0, lid);
      }
      store_kv_tile(false, staged, lid, 0u);
      if (PREFETCH && t + 1u < tiles) {
        staged = fetch_kv_tile(true, kv_base, k0 + BC, lid); // the next K, in flight during PV
      }
      workgroupBarrier();
      pv_tile(&st, 0u, 0u, rg, g);
    }
  }

  let l_row = reduce_sum_rows(st.l, lid);
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let row = row0 + m * ROW_GROUPS + rg;
    if (row < p.seq_q) {
      // A row that saw no key (causal, seq_q > seq_k) has sum 0: its output is 0.
      let inv = select(0.0, 1.0 / l_row[m], l_row[m] > 0.0);
      // @unroll
      for (var d = 0u; d < TD4; d++) {
        o[q_base + row * D4 + d * ROW_THREADS + g] = st.acc[m * TD4 + d] * inv;
      }
    }
  }
}
