// FlashAttention-2 forward pass with f16 storage and products (the f16 variant of
// flash_attention.wgsl; same work split, layouts and tunables, read that file first).
//
// Precision: Q (pre-scaled by scale·log2(e) when it was converted, convert_f16.wgsl), K, V and P
// are f16, eight values to a vec4<u32> in memory; products and the short sums of one tile use
// packed f16 arithmetic (two multiply-adds per instruction). Everything that accumulates across
// tiles is f32: the running max and sum, and the output accumulator, to which each tile's f16
// partial P·V is added after the rescale. A score is the f32 sum of two f16 partial dot products
// of d/2 terms each.
enable f16;

const HEAD_DIM: u32 = 64u;
const BR: u32 = 64u;
const BC: u32 = 32u;
const WORKGROUP_SIZE: u32 = 128u;
const ROW_THREADS: u32 = 8u;
const PREFETCH: bool = true;
const UNROLL: u32 = 4u;
const Q_SWIZZLE: u32 = 0u;

// Head-dim chunks of 8 values (one vec4<u32> of packed f16).
const D8: u32 = HEAD_DIM / 8u;
const ROW_GROUPS: u32 = WORKGROUP_SIZE / ROW_THREADS;
const TM: u32 = BR / ROW_GROUPS;
const TN: u32 = BC / ROW_THREADS;
const TD8: u32 = D8 / ROW_THREADS;
const TMTN: u32 = TM * TN;
// f32 output accumulators: two vec4 per 8-column chunk, TD8X2 per row, TD8X in all.
const TD8X2: u32 = TD8 * 2u;
const TD8X: u32 = TM * TD8X2;
const TM4: u32 = (TM + 3u) / 4u;
const P_WIDTH4: u32 = ROW_GROUPS * TM4;
const STAGE: u32 = (BC * D8 + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
const P_SWIZZLE: u32 = min(P_WIDTH4 & (~P_WIDTH4 + 1u), 8u) - 1u;
const C_UNROLL: u32 = min(UNROLL, D8);
const J_UNROLL: u32 = min(UNROLL, BC);
const Q_MASK: u32 = select(0u, min(D8 & (~D8 + 1u), 8u) - 1u, Q_SWIZZLE != 0u);
const MASKED: f32 = -3.0e38f;
const M_INIT: f32 = -1.0e30f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> q_tile: array<vec4<u32>, BR * D8>;
var<workgroup> kv_tile: array<vec4<u32>, BC * D8>;
var<workgroup> p_tile: array<vec4<f16>, BC * P_WIDTH4>;

fn q_index(row: u32, col8: u32) -> u32 {
  return row * D8 + (col8 ^ (row & Q_MASK));
}

fn p_index(key: u32, slot4: u32) -> u32 {
  return key * P_WIDTH4 + (slot4 ^ (key & P_SWIZZLE));
}

fn half2(x: u32) -> vec2<f16> {
  return bitcast<vec2<f16>>(x);
}

fn kv_row(src_is_k: bool, idx: u32) -> u32 {
  return select(idx / D8, idx % BC, src_is_k);
}

fn kv_col(src_is_k: bool, idx: u32) -> u32 {
  return select(idx % D8, idx / BC, src_is_k);
}

fn fetch_kv_tile(src_is_k: bool, base: u32, row0: u32, lid: u32) -> array<vec4<u32>, STAGE> {
  var staged: array<vec4<u32>, STAGE>;
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    let r = kv_row(src_is_k, idx);
    var val = vec4<u32>(0u);
    if ((BC * D8 % WORKGROUP_SIZE == 0u || idx < BC * D8) && row0 + r < p.seq_k) {
      let at = base + (row0 + r) * D8 + kv_col(src_is_k, idx);
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

fn store_kv_tile(src_is_k: bool, staged: array<vec4<u32>, STAGE>, lid: u32) {
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BC * D8 % WORKGROUP_SIZE == 0u || idx < BC * D8) {
      let r = kv_row(src_is_k, idx);
      let c = kv_col(src_is_k, idx);
      kv_tile[select(r * D8 + c, c * BC + r, src_is_k)] = staged[it];
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let h = wid.y;
  let row0 = wid.x * BR;
  let q_base = (b * p.heads + h) * p.seq_q * D8;
  let kv_base = (b * p.kv_heads + h / p.group_size) * p.seq_k * D8;
  let o_base = (b * p.heads + h) * p.seq_q * (HEAD_DIM / 4u);
  let rg = lid / ROW_THREADS;
  let g = lid % ROW_THREADS;

  for (var it = 0u; it < (BR * D8 + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BR * D8 % WORKGROUP_SIZE == 0u || idx < BR * D8) {
      let r = idx / D8;
      let c = idx % D8;
      var val = vec4<u32>(0u);
      if (row0 + r < p.seq_q) {
        val = q[q_base + (row0 + r) * D8 + c];
      }
      q_tile[q_index(r, c)] = val;
    }
  }

  let row_end = min(row0 + BR, p.seq_q);
  var k_end = p.seq_k;
  if (p.causal != 0u) {
    k_end = u32(clamp(i32(row_end) + p.causal_offset, 0, i32(p.seq_k)));
  }
  let tiles = (k_end + BC - 1u) / BC;

  // Output accumulators: f32 across tiles; 2 vec4 per 8-column chunk.
  var acc: array<vec4<f32>, TM * TD8 * 2u>;
  var m_run: array<f32, TM>;
  var l_part: array<f32, TM>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    m_run[m] = M_INIT;
    l_part[m] = 0.0;
  }
  // @unroll
  for (var i = 0u; i < TD8X; i++) {
    acc[i] = vec4<f32>(0.0);
  }

  var staged: array<vec4<u32>, STAGE>;
  if (PREFETCH && tiles > 0u) {
    staged = fetch_kv_tile(true, kv_base, 0u, lid);
  }
  for (var t = 0u; t < tiles; t++) {
    let k0 = t * BC;
    workgroupBarrier();
    if (!PREFETCH) {
      staged = fetch_kv_tile(true, kv_base, k0, lid);
    }
    store_kv_tile(true, staged, lid);
    workgroupBarrier();
    if (PREFETCH) {
      staged = fetch_kv_tile(false, kv_base, k0, lid);
    }

    // S = Q Kᵀ: packed f16 multiply-adds into two partial sums per score.
    var s2: array<vec2<f16>, TM * TN>;
    // @unroll
    for (var i = 0u; i < TMTN; i++) {
      s2[i] = vec2<f16>(0.0h);
    }
    for (var c0 = 0u; c0 < D8 / C_UNROLL; c0++) {
      // @unroll
      for (var cc = 0u; cc < C_UNROLL; cc++) {
        let c = c0 * C_UNROLL + cc;
        var qv: array<vec4<u32>, TM>;
        // @unroll
        for (var m = 0u; m < TM; m++) {
          qv[m] = q_tile[q_index(m * ROW_GROUPS + rg, c)];
        }
        // @unroll
        for (var n = 0u; n < TN; n++) {
          let kq = kv_tile[c * BC + n * ROW_THREADS + g];
          // @unroll
          for (var m = 0u; m < TM; m++) {
            let a = qv[m];
            var x = s2[m * TN + n];
            x = fma(half2(a.x), half2(kq.x), x);
            x = fma(half2(a.y), half2(kq.y), x);
            x = fma(half2(a.z), half2(kq.z), x);
            x = fma(half2(a.w), half2(kq.w), x);
            s2[m * TN + n] = x;
          }
        }
      }
    }

    var s: array<f32, TM * TN>;
    // @unroll
    for (var i = 0u; i < TMTN; i++) {
      s[i] = f32(s2[i].x) + f32(s2[i].y);
    }

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
      for (var d = 0u; d < TD8X2; d++) {
        acc[m * TD8X2 + d] *= alpha;
      }
      // @unroll
      for (var n = 0u; n < TN; n++) {
        let e = exp2(s[m * TN + n] - m_new);
        l += e;
        p_tile[p_index(n * ROW_THREADS + g, rg * TM4 + m / 4u)][m % 4u] = f16(e);
      }
      l_part[m] = l;
    }

    workgroupBarrier();
    if (!PREFETCH) {
      staged = fetch_kv_tile(false, kv_base, k0, lid);
    }
    store_kv_tile(false, staged, lid);
    if (PREFETCH && t + 1u < tiles) {
      staged = fetch_kv_tile(true, kv_base, k0 + BC, lid);
    }
    workgroupBarrier();

    // This tile's P V in f16 (at most BC terms per sum), then added to the f32 accumulator.
    var part_o: array<vec4<f16>, TM * TD8 * 2u>;
    // @unroll
    for (var i = 0u; i < TD8X; i++) {
      part_o[i] = vec4<f16>(0.0h);
    }
    for (var j0 = 0u; j0 < BC / J_UNROLL; j0++) {
      // @unroll
      for (var jj = 0u; jj < J_UNROLL; jj++) {
        let j = j0 * J_UNROLL + jj;
        var pv: array<vec4<f16>, TM4>;
        // @unroll
        for (var m4 = 0u; m4 < TM4; m4++) {
          pv[m4] = p_tile[p_index(j, rg * TM4 + m4)];
        }
        // @unroll
        for (var d = 0u; d < TD8; d++) {
          let vq = kv_tile[j * D8 + d * ROW_THREADS + g];
          let lo = bitcast<vec4<f16>>(vq.xy);
          let hi = bitcast<vec4<f16>>(vq.zw);
          // @unroll
          for (var m = 0u; m < TM; m++) {
            let pm = vec4<f16>(pv[m / 4u][m % 4u]);
            let at = (m * TD8 + d) * 2u;
            part_o[at] = fma(pm, lo, part_o[at]);
            part_o[at + 1u] = fma(pm, hi, part_o[at + 1u]);
          }
        }
      }
    }
    // @unroll
    for (var i = 0u; i < TD8X; i++) {
      acc[i] += vec4<f32>(part_o[i]);
    }
  }

  let l_row = reduce_sum_rows(l_part, lid);
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let row = row0 + m * ROW_GROUPS + rg;
    if (row < p.seq_q) {
      let inv = select(0.0, 1.0 / l_row[m], l_row[m] > 0.0);
      // @unroll
      for (var d = 0u; d < TD8; d++) {
        // Chunk d of this lane covers output vec4 columns 2·(d·ROW_THREADS + g) and the next.
        let col4 = 2u * (d * ROW_THREADS + g);
        let at = (m * TD8 + d) * 2u;
        o[o_base + row * (HEAD_DIM / 4u) + col4] = acc[at] * inv;
        o[o_base + row * (HEAD_DIM / 4u) + col4 + 1u] = acc[at + 1u] * inv;
      }
    }
  }
}
