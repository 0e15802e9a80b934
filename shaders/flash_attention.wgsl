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
// Bank conflicts: tiles are stored unpadded (padding would cost the workgroup memory that 64-row
// tiles need at d = 64) with the vec4 column XOR-swizzled by the row, so lanes that read one column
// of consecutive rows, or write one row of P for consecutive keys, hit different banks.
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

const D4: u32 = HEAD_DIM / 4u;
const ROW_GROUPS: u32 = WORKGROUP_SIZE / ROW_THREADS;
const TM: u32 = BR / ROW_GROUPS;
const TN: u32 = BC / ROW_THREADS;
const TD4: u32 = D4 / ROW_THREADS;
// P is stored per key as [row group][TM] values, in vec4s (TM4 per row group).
const TM4: u32 = (TM + 3u) / 4u;
const P_WIDTH4: u32 = ROW_GROUPS * TM4;
// XOR masks of the swizzles: the largest power of two (at most 8) dividing the row width, minus 1.
const KV_SWIZZLE: u32 = min(D4 & (~D4 + 1u), 8u) - 1u;
const P_SWIZZLE: u32 = min(P_WIDTH4 & (~P_WIDTH4 + 1u), 8u) - 1u;
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

fn tile_index(row: u32, col4: u32) -> u32 {
  return row * D4 + (col4 ^ (row & KV_SWIZZLE));
}

fn p_index(key: u32, slot4: u32) -> u32 {
  return key * P_WIDTH4 + (slot4 ^ (key & P_SWIZZLE));
}

// Copies rows [row0, row0 + BC) of K or V (zero past seq_k) into kv_tile. Every invocation runs
// the same number of iterations, so the loop unrolls and the loads issue back to back.
fn load_kv_tile(src_is_k: bool, base: u32, row0: u32, lid: u32) {
  for (var it = 0u; it < (BC * D4 + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BC * D4 % WORKGROUP_SIZE == 0u || idx < BC * D4) {
      let r = idx / D4;
      let c = idx % D4;
      var val = vec4<f32>(0.0);
      if (row0 + r < p.seq_k) {
        if (src_is_k) {
          val = k[base + (row0 + r) * D4 + c];
        } else {
          val = v[base + (row0 + r) * D4 + c];
        }
      }
      kv_tile[tile_index(r, c)] = val;
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
      q_tile[tile_index(r, c)] = val;
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
  for (var m = 0u; m < TM; m++) {
    m_run[m] = M_INIT;
    l_part[m] = 0.0;
  }
  for (var i = 0u; i < TM * TD4; i++) {
    acc[i] = vec4<f32>(0.0);
  }

  for (var t = 0u; t < tiles; t++) {
    let k0 = t * BC;
    workgroupBarrier(); // the previous tile's reads of kv_tile (V) and p_tile are done
    load_kv_tile(true, kv_base, k0, lid);
    workgroupBarrier();

    // S = Q Kᵀ for this invocation's TM × TN block, 4 head-dim columns at a time, as explicit fma
    // chains (dot() plus an add would cost a fifth more instructions).
    var s: array<f32, TM * TN>;
    for (var i = 0u; i < TM * TN; i++) {
      s[i] = 0.0;
    }
    for (var c = 0u; c < D4; c++) {
      var qv: array<vec4<f32>, TM>;
      for (var m = 0u; m < TM; m++) {
        qv[m] = q_tile[tile_index(m * ROW_GROUPS + rg, c)];
      }
      for (var n = 0u; n < TN; n++) {
        let kv = kv_tile[tile_index(n * ROW_THREADS + g, c)];
        for (var m = 0u; m < TM; m++) {
          let a = qv[m];
          s[m * TN + n] = fma(a.w, kv.w, fma(a.z, kv.z, fma(a.y, kv.y, fma(a.x, kv.x, s[m * TN + n]))));
        }
      }
    }

    // Only tiles past the end of K or crossing the causal diagonal need the element-wise mask;
    // the condition is the same for the whole workgroup.
    let past_end = k0 + BC > p.seq_k;
    let on_diagonal = p.causal != 0u && i32(k0 + BC - 1u) > i32(row0) + p.causal_offset;
    if (past_end || on_diagonal) {
      for (var m = 0u; m < TM; m++) {
        let limit = i32(row0 + m * ROW_GROUPS + rg) + p.causal_offset;
        for (var n = 0u; n < TN; n++) {
          let key = k0 + n * ROW_THREADS + g;
          if (key >= p.seq_k || (p.causal != 0u && i32(key) > limit)) {
            s[m * TN + n] = MASKED;
          }
        }
      }
    }

    var part: array<f32, TM>;
    for (var m = 0u; m < TM; m++) {
      var x = s[m * TN];
      for (var n = 1u; n < TN; n++) {
        x = max(x, s[m * TN + n]);
      }
      part[m] = x;
    }
    let tile_max = reduce_max_rows(part, lid);

    for (var m = 0u; m < TM; m++) {
      let m_new = max(m_run[m], tile_max[m]);
      let alpha = exp2(m_run[m] - m_new);
      m_run[m] = m_new;
      var l = l_part[m] * alpha;
      for (var d = 0u; d < TD4; d++) {
        acc[m * TD4 + d] *= alpha;
      }
      for (var n = 0u; n < TN; n++) {
        let e = exp2(s[m * TN + n] - m_new);
        l += e;
        p_tile[p_index(n * ROW_THREADS + g, rg * TM4 + m / 4u)][m % 4u] = e;
      }
      l_part[m] = l;
    }

    workgroupBarrier(); // every invocation is done reading K from kv_tile, and P is complete
    load_kv_tile(false, kv_base, k0, lid);
    workgroupBarrier();

    // O += P V: per key, this invocation's TM probabilities times its TD4 vec4s of the V row.
    // Keys past seq_k have P = 0 and V = 0, so the last tile needs no special case.
    for (var j = 0u; j < BC; j++) {
      var pv: array<f32, TM>;
      if (TM % 4u == 0u) {
        for (var m4 = 0u; m4 < TM4; m4++) {
          let x = p_tile[p_index(j, rg * TM4 + m4)];
          pv[m4 * 4u] = x.x;
          pv[m4 * 4u + 1u] = x.y;
          pv[m4 * 4u + 2u] = x.z;
          pv[m4 * 4u + 3u] = x.w;
        }
      } else {
        for (var m = 0u; m < TM; m++) {
          pv[m] = p_tile[p_index(j, rg * TM4 + m / 4u)][m % 4u];
        }
      }
      for (var d = 0u; d < TD4; d++) {
        let vv = kv_tile[tile_index(j, d * ROW_THREADS + g)];
        for (var m = 0u; m < TM; m++) {
          acc[m * TD4 + d] = fma(vec4<f32>(pv[m]), vv, acc[m * TD4 + d]);
        }
      }
    }
  }

  let l_row = reduce_sum_rows(l_part, lid);
  for (var m = 0u; m < TM; m++) {
    let row = row0 + m * ROW_GROUPS + rg;
    if (row < p.seq_q) {
      // A row that saw no key (causal, seq_q > seq_k) has sum 0: its output is 0.
      let inv = select(0.0, 1.0 / l_row[m], l_row[m] > 0.0);
      for (var d = 0u; d < TD4; d++) {
        o[q_base + row * D4 + d * ROW_THREADS + g] = acc[m * TD4 + d] * inv;
      }
    }
  }
}
