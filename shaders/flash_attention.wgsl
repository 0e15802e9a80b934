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
// Latency: with PREFETCH, each K or V tile is fetched from global memory into registers one phase
// ahead (V during the QKᵀ of its tile, the next K during PV) and only stored to workgroup memory
// after the barrier, so the loads' latency overlaps arithmetic instead of stalling every warp.
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
var<workgroup> kv_tile: array<vec4<f32>, BC * D4>;
var<workgroup> p_tile: array<vec4<f32>, BC * P_WIDTH4>;

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

fn store_kv_tile(src_is_k: bool, staged: array<vec4<f32>, STAGE>, lid: u32) {
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BC * D4 % WORKGROUP_SIZE == 0u || idx < BC * D4) {
      let r = kv_row(src_is_k, idx);
      let c = kv_col(src_is_k, idx);
      // K transposed ([d/4][key]), V row-major ([key][d/4]).
      kv_tile[select(r * D4 + c, c * BC + r, src_is_k)] = staged[it];
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

  var acc: array<vec4<f32>, TM * TD4>;
  var m_run: array<f32, TM>;
  var l_part: array<f32, TM>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    m_run[m] = M_INIT;
    l_part[m] = 0.0;
    // @unroll
    for (var d = 0u; d < TD4; d++) {
      acc[m * TD4 + d] = vec4<f32>(0.0);
    }
  }

  var staged: array<vec4<f32>, STAGE>;
  if (PREFETCH && tiles > 0u) {
    staged = fetch_kv_tile(true, kv_base, 0u, lid);
  }
  for (var t = 0u; t < tiles; t++) {
    let k0 = t * BC;
    workgroupBarrier(); // the previous tile's reads of kv_tile (V) and p_tile are done
    if (!PREFETCH) {
      staged = fetch_kv_tile(true, kv_base, k0, lid);
    }
    store_kv_tile(true, staged, lid);
    workgroupBarrier();
    if (PREFETCH) {
      staged = fetch_kv_tile(false, kv_base, k0, lid); // V of this tile, in flight during QKᵀ
    }

    // S = Q Kᵀ for this invocation's TM × TN block, 4 head-dim columns at a time, as explicit fma
    // chains (dot() plus an add would cost a fifth more instructions).
    var s: array<f32, TM * TN>;
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
        let kv = kv_tile[c * BC + n * ROW_THREADS + g];
        // @unroll
        for (var m = 0u; m < TM; m++) {
          let a = qv[m];
          s[m * TN + n] = fma(a.w, kv.w, fma(a.z, kv.z, fma(a.y, kv.y, fma(a.x, kv.x, s[m * TN + n]))));
        }
      }
    }
    }

    // Only tiles past the end of K or crossing the causal diagonal need the element-wise mask;
    // the condition is the same for the whole workgroup.
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
            s[m * TN + n] = MASKED;
          }
        }
      }
    }

    var part: array<f32, TM>;
    // @unroll
    for (var m = 0u; m < TM; m++) {
      var x = s[m * TN];
      // @unroll
      for (var n = 0u; n < TN; n++) {
        x = max(x, s[m * TN + n]);
      }
      part[m] = x;
    }
    let tile_max = reduce_max_rows(part, lid);

    // @unroll
    for (var m = 0u; m < TM; m++) {
      let m_new = max(m_run[m], tile_max[m]);
      let alpha = exp2(m_run[m] - m_new);
      m_run[m] = m_new;
      var l = l_part[m] * alpha;
      // @unroll
      for (var d = 0u; d < TD4; d++) {
        acc[m * TD4 + d] *= alpha;
      }
      // @unroll
      for (var n = 0u; n < TN; n++) {
        let e = exp2(s[m * TN + n] - m_new);
        l += e;
        p_tile[p_index(n * ROW_THREADS + g, rg * TM4 + m / 4u)][m % 4u] = e;
      }
      l_part[m] = l;
    }

    workgroupBarrier(); // every invocation is done reading K from kv_tile, and P is complete
    if (!PREFETCH) {
      staged = fetch_kv_tile(false, kv_base, k0, lid);
    }
    store_kv_tile(false, staged, lid);
    if (PREFETCH && t + 1u < tiles) {
      staged = fetch_kv_tile(true, kv_base, k0 + BC, lid); // the next K, in flight during PV
    }
    workgroupBarrier();

    // O += P V: per key, this invocation's TM probabilities times its TD4 vec4s of the V row.
    // Keys past seq_k have P = 0 and V = 0, so the last tile needs no special case.
    for (var j0 = 0u; j0 < BC / J_UNROLL; j0++) {
      // @unroll
      for (var jj = 0u; jj < J_UNROLL; jj++) {
        let j = j0 * J_UNROLL + jj;
        // P of this key for the invocation's rows, TM4 vec4s (lanes past TM unused when TM < 4).
        var pv: array<vec4<f32>, TM4>;
        // @unroll
        for (var m4 = 0u; m4 < TM4; m4++) {
          pv[m4] = p_tile[p_index(j, rg * TM4 + m4)];
        }
        // @unroll
        for (var d = 0u; d < TD4; d++) {
          let vv = kv_tile[j * D4 + d * ROW_THREADS + g];
          // @unroll
          for (var m = 0u; m < TM; m++) {
            acc[m * TD4 + d] = fma(vec4<f32>(pv[m / 4u][m % 4u]), vv, acc[m * TD4 + d]);
          }
        }
      }
    }
  }

  let l_row = reduce_sum_rows(l_part, lid);
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let row = row0 + m * ROW_GROUPS + rg;
    if (row < p.seq_q) {
      // A row that saw no key (causal, seq_q > seq_k) has sum 0: its output is 0.
      let inv = select(0.0, 1.0 / l_row[m], l_row[m] > 0.0);
      // @unroll
      for (var d = 0u; d < TD4; d++) {
        o[q_base + row * D4 + d * ROW_THREADS + g] = acc[m * TD4 + d] * inv;
      }
    }
  }
}
