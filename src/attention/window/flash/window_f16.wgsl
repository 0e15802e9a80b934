// Sliding-window FlashAttention-2 with attention sinks, f16 storage and products: the dense f16
// flash kernel (src/attention/dense/flash/flash_f16.wgsl) with the key-tile loop and mask of
// window_f32.wgsl (key_tiles, key_tile_start, tile_needs_mask, key_hidden from window_tiles.wgsl);
// everything else as there. Composed after params.wgsl, the row reductions, kv_fetch_f16.wgsl and
// window_tiles.wgsl.
//
// The dense f16 kernel's notes:
//
// FlashAttention-2 forward pass with f16 storage and products: the f16 variant of
// flash_attention.wgsl, with the same work split (Q in registers, head-dim split with a
// reduce-scatter), layouts and tunables; read that file first.
//
// Precision: Q (pre-scaled by scale·log2(e) when it was converted, convert_f16.wgsl), K, V and P
// are f16, eight values to a vec4<u32> in memory; products and the short sums of one lane's
// head-dim slice or of one tile's P·V use packed f16 arithmetic (two multiply-adds per
// instruction). Everything longer is f32: a score is the f32 sum of two f16 partial dot products
// of d / (2·ROW_THREADS) terms per lane, added across lanes in f32 by the reduce-scatter; the
// running max and sum and the output accumulator (to which each tile's f16 partial P·V is added
// after the rescale) are f32.
// Composed after params.wgsl (Params), the row reductions and reduce-scatters, and
// flash_kv_fetch_f16.wgsl (fetch_kv_tile).
enable f16;

const HEAD_DIM: u32 = 64u;
const BR: u32 = 64u;
const BC: u32 = 32u;
const WORKGROUP_SIZE: u32 = 128u;
const ROW_THREADS: u32 = 8u;
const PREFETCH: bool = true;
const UNROLL: u32 = 4u;

// Head-dim chunks of 8 values (one vec4<u32> of packed f16).
const D8: u32 = HEAD_DIM / 8u;
const ROW_GROUPS: u32 = WORKGROUP_SIZE / ROW_THREADS;
const TM: u32 = BR / ROW_GROUPS;
const TN: u32 = BC / ROW_THREADS;
const TD8: u32 = D8 / ROW_THREADS;
const DS8: u32 = TD8;
const TMTN: u32 = TM * TN;
const TMDS8: u32 = TM * DS8;
// f32 output accumulators: two vec4 per 8-column chunk, TD8X2 per row, TD8X in all.
const TD8X2: u32 = TD8 * 2u;
const TD8X: u32 = TM * TD8X2;
// Partial scores of one chunk of ROW_THREADS keys, [row][key of the chunk], and the halving steps
// of their reduce-scatter (ROW_THREADS is a power of two).
const PART: u32 = TM * ROW_THREADS;
const SCATTER_STEPS: u32 = countTrailingZeros(ROW_THREADS);
const SCATTER_HALF: u32 = ROW_THREADS / 2u;
// P is stored per key as TM4 vec4s (four rows each) per row group.
const TM4: u32 = (TM + 3u) / 4u;
const TNTM4: u32 = TN * TM4;
// vec4s of a K or V tile each invocation carries from global to workgroup memory.
const STAGE: u32 = (BC * D8 + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
// P vectors are 8 bytes, served sixteen lanes at a time: the P_PAD of flash_attention.wgsl with 16
// in place of 8.
const P_PAD: u32 = select(select(16u / ROW_THREADS, 1u + (ROW_GROUPS & 1u), ROW_THREADS >= 16u), 0u, ROW_THREADS == 1u);
const J_UNROLL: u32 = min(UNROLL, BC);
const MASKED: f32 = -3.0e38f;
const M_INIT: f32 = -1.0e30f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> kv_tile: array<array<vec4<u32>, ROW_THREADS>, BC * TD8>;
var<workgroup> p_tile: array<array<vec4<f16>, ROW_GROUPS + P_PAD>, TM4 * BC>;

fn half2(x: u32) -> vec2<f16> {
  return bitcast<vec2<f16>>(x);
}

fn store_kv_tile(staged: array<vec4<u32>, STAGE>, lid: u32) {
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BC * D8 % WORKGROUP_SIZE == 0u || idx < BC * D8) {
      let r = idx / D8;
      let c = idx % D8;
      kv_tile[r * TD8 + c / ROW_THREADS][c % ROW_THREADS] = staged[it];
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // The grid as it is (x: query tile, fastest), not params.wgsl's work_item: every full-window
  // tile costs the same, and neighbouring tiles of one head read nearly the same window of K and V,
  // so running them together keeps that window in L2 (tile-major order across heads would not).
  let item = wid;
  let b = item.z;
  let h = item.y;
  let row0 = item.x * BR;
  let q_base = (b * p.heads + h) * p.seq_q * D8;
  let kv_base = (b * p.kv_heads + h / p.group_size) * p.seq_k * D8;
  let o_base = (b * p.heads + h) * p.seq_q * (HEAD_DIM / 4u);
  let rg = lid / ROW_THREADS;
  let g = lid % ROW_THREADS;

  // This lane's slice of its rows of Q (pre-scaled when converted); rows past seq_q are zero.
  var q_reg: array<vec4<u32>, TMDS8>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let row = row0 + m * ROW_GROUPS + rg;
    // @unroll
    for (var i = 0u; i < DS8; i++) {
      var val = vec4<u32>(0u);
      if (row < p.seq_q) {
        val = q[q_base + row * D8 + i * ROW_THREADS + g];
      }
      q_reg[m * DS8 + i] = val;
    }
  }

  // The sink tiles, then the tiles of the rows' windows up to the diagonal.
  let row_end = min(row0 + BR, p.seq_q);
  let key_set = key_tiles(row0, row_end);
  let tiles = key_set.count;

  var acc: array<vec4<f32>, TD8X>;
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
    staged = fetch_kv_tile(true, kv_base, key_tile_start(key_set, 0u), lid);
  }
  for (var t = 0u; t < tiles; t++) {
    let k0 = key_tile_start(key_set, t);
    workgroupBarrier(); // the previous tile's reads of kv_tile (V) and p_tile are done
    if (!PREFETCH) {
      staged = fetch_kv_tile(true, kv_base, k0, lid);
    }
    store_kv_tile(staged, lid);
    workgroupBarrier();
    if (PREFETCH) {
      staged = fetch_kv_tile(false, kv_base, k0, lid); // V of this tile, in flight during QKᵀ
    }

    // S = Q Kᵀ, ROW_THREADS keys at a time: packed f16 partial dot products over this lane's
    // head-dim slice, summed to f32, then the reduce-scatter hands this lane the full scores of
    // key n·ROW_THREADS + g for each of its rows. (Reduce-scattering the packed f16 pairs instead,
    // half the conversions, measured 8% slower on the H100.)
    var s: array<f32, TMTN>;
    // @unroll
    for (var n = 0u; n < TN; n++) {
      var part: array<f32, PART>;
      // @unroll
      for (var kk = 0u; kk < ROW_THREADS; kk++) {
        var part2: array<vec2<f16>, TM>;
        // @unroll
        for (var m = 0u; m < TM; m++) {
          part2[m] = vec2<f16>(0.0h);
        }
        // @unroll
        for (var i = 0u; i < DS8; i++) {
          let kq = kv_tile[(n * ROW_THREADS + kk) * TD8 + i][g];
          // @unroll
          for (var m = 0u; m < TM; m++) {
            let a = q_reg[m * DS8 + i];
            var x = part2[m];
            x = fma(half2(a.x), half2(kq.x), x);
            x = fma(half2(a.y), half2(kq.y), x);
            x = fma(half2(a.z), half2(kq.z), x);
            x = fma(half2(a.w), half2(kq.w), x);
            part2[m] = x;
          }
        }
        // @unroll
        for (var m = 0u; m < TM; m++) {
          part[m * ROW_THREADS + kk] = f32(part2[m].x) + f32(part2[m].y);
        }
      }
      let full = reduce_scatter_rows(part, lid);
      // @unroll
      for (var m = 0u; m < TM; m++) {
        s[m * TN + n] = full[m];
      }
    }

    // Only tiles past the end of K, crossing the diagonal or reaching below a window need the
    // element-wise mask; the condition is the same for the whole workgroup.
    if (tile_needs_mask(k0, row0, row_end - 1u)) {
      // @unroll
      for (var m = 0u; m < TM; m++) {
        let pos = i32(row0 + m * ROW_GROUPS + rg) + p.causal_offset;
        // @unroll
        for (var n = 0u; n < TN; n++) {
          if (key_hidden(k0 + n * ROW_THREADS + g, pos)) {
            s[m * TN + n] = MASKED;
          }
        }
      }
    }

    var part_max: array<f32, TM>;
    // @unroll
    for (var m = 0u; m < TM; m++) {
      var x = s[m * TN];
      // @unroll
      for (var n = 0u; n < TN; n++) {
        x = max(x, s[m * TN + n]);
      }
      part_max[m] = x;
    }
    let tile_max = reduce_max_rows(part_max, lid);

    // The running max only moves when a row sees a new maximum, which after the first tiles is
    // rare: the rescale of the accumulators (and its exp2) is skipped whenever it would be by 1.
    // @unroll
    for (var m = 0u; m < TM; m++) {
      if (tile_max[m] > m_run[m]) {
        let alpha = exp2(m_run[m] - tile_max[m]);
        m_run[m] = tile_max[m];
        l_part[m] *= alpha;
        // @unroll
        for (var d = 0u; d < TD8X2; d++) {
          acc[m * TD8X2 + d] *= alpha;
        }
      }
    }
    // P for this invocation's keys, four rows to a vec4 so that each key takes TM4 stores.
    var pe: array<vec4<f16>, TNTM4>;
    // @unroll
    for (var i = 0u; i < TNTM4; i++) {
      pe[i] = vec4<f16>(0.0h);
    }
    // @unroll
    for (var m = 0u; m < TM; m++) {
      var l = l_part[m];
      // @unroll
      for (var n = 0u; n < TN; n++) {
        let e = exp2(s[m * TN + n] - m_run[m]);
        l += e;
        pe[n * TM4 + m / 4u][m % 4u] = f16(e);
      }
      l_part[m] = l;
    }
    // @unroll
    for (var n = 0u; n < TN; n++) {
      let key = n * ROW_THREADS + g;
      // @unroll
      for (var m4 = 0u; m4 < TM4; m4++) {
        p_tile[m4 * BC + key][rg] = pe[n * TM4 + m4];
      }
    }

    workgroupBarrier(); // every invocation is done reading K from kv_tile, and P is complete
    if (!PREFETCH) {
      staged = fetch_kv_tile(false, kv_base, k0, lid);
    }
    store_kv_tile(staged, lid);
    if (PREFETCH && t + 1u < tiles) {
      staged = fetch_kv_tile(true, kv_base, key_tile_start(key_set, t + 1u), lid); // the next K, in flight during PV
    }
    workgroupBarrier();

    // This tile's P V in f16 (at most BC terms per sum), then added to the f32 accumulator.
    // Keys past seq_k have P = 0 and V = 0, so the last tile needs no special case.
    var part_o: array<vec4<f16>, TD8X>;
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
          pv[m4] = p_tile[m4 * BC + j][rg];
        }
        // @unroll
        for (var d = 0u; d < TD8; d++) {
          let vq = kv_tile[j * TD8 + d][g];
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
      // A row that saw no key (seq_q > seq_k) has sum 0: its output is 0.
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
