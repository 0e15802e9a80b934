// Sliding-window FlashAttention-2 with attention sinks, f32: the dense flash kernel
// (src/attention/dense/flash/flash_f32.wgsl, whose work split, layouts and latency hiding this
// keeps unchanged) with a different key-tile loop. A workgroup of BR query rows visits only the key
// tiles that meet its rows' windows or the sinks (key_tiles in window_tiles.wgsl): work and K/V
// traffic are O(BR·(window + sinks + BR)) per workgroup instead of O(BR·N), so time grows linearly
// with the sequence. Only tiles crossing the diagonal, the window's lower edge or the end of K get
// the element-wise mask (key_hidden); the rest run the dense inner loop as is.
//
// The dense kernel's notes, which hold here too:
//
// Work split: the WORKGROUP_SIZE invocations form ROW_GROUPS groups of ROW_THREADS. Row group rg
// owns query rows rg, rg + ROW_GROUPS, ... (TM of them). Lane g of the group owns
//   - for QKᵀ, the head-dim slice of vec4 columns g, g + ROW_THREADS, ... (DS4 of them) of those
//     rows, held in registers (q_reg): it computes partial dot products of its slice with every key
//     of the tile, and a reduce-scatter across the group's lanes (reduce_scatter_rows) leaves it
//     the full scores of keys g, g + ROW_THREADS, ... (TN of them);
//   - for P·V, output vec4 columns g, g + ROW_THREADS, ... (TD4 of them).
// Why the head-dim split: on NVIDIA (and most GPUs) every lane's load from workgroup memory costs
// crossbar bandwidth, broadcast or not, and the crossbar moves a quarter of what the FMA units
// consume. Keeping Q in registers removes the Q reloads that dominated the loads of QKᵀ; each K
// value a lane loads then feeds TM multiply-adds. The reduce-scatter costs ROW_THREADS - 1 shuffles
// per score spread over the group, far fewer than the Q values it replaces.
//
// Workgroup memory: K and V tiles share one layout, key r's vec4 column c at
// kv_tile[r·TD4 + c / ROW_THREADS][c % ROW_THREADS], so the lanes of a row group read consecutive
// vec4s of one row (no bank conflicts), and every read in the hot loops is a constant row of the
// two-dimensional array at column g. WebGPU implementations clamp every dynamic array index
// (robust buffer access); here only the inner index is dynamic, clamped once per invocation and
// hoisted, so each load is a base register plus a constant offset. P, rows m of row group rg for
// key j (four rows to a vec4), sits at p_tile[(m / 4)·BC + j][rg]; lanes of different keys write
// it, so its rows are padded (P_PAD) to spread those writes over the banks.
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
// Unroll factor of the PV loop over keys (QKᵀ is unrolled whole: its partial sums are registers).
const UNROLL: u32 = 4u;

const D4: u32 = HEAD_DIM / 4u;
const ROW_GROUPS: u32 = WORKGROUP_SIZE / ROW_THREADS;
const TM: u32 = BR / ROW_GROUPS;
const TN: u32 = BC / ROW_THREADS;
const TD4: u32 = D4 / ROW_THREADS;
// The head-dim slice of a lane in QKᵀ has as many vec4s as its output columns in PV.
const DS4: u32 = TD4;
const TMTN: u32 = TM * TN;
const TMDS4: u32 = TM * DS4;
// Partial scores of one chunk of ROW_THREADS keys, [row][key of the chunk], and the halving steps
// of their reduce-scatter (ROW_THREADS is a power of two).
const PART: u32 = TM * ROW_THREADS;
const SCATTER_STEPS: u32 = countTrailingZeros(ROW_THREADS);
const SCATTER_HALF: u32 = ROW_THREADS / 2u;
// P is stored per key as TM4 vec4s (four rows each) per row group.
const TM4: u32 = (TM + 3u) / 4u;
const TNTM4: u32 = TN * TM4;
// vec4s of a K or V tile each invocation carries from global to workgroup memory.
const STAGE: u32 = (BC * D4 + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
// 16-byte accesses are served eight lanes at a time: those of one P store are min(ROW_THREADS, 8)
// keys of 8 / min(ROW_THREADS, 8) neighbouring row groups. A row stride of an odd number of vec4s
// (ROW_THREADS >= 8), or of 2 or 4 mod 8 (ROW_THREADS 4 or 2), puts them in distinct banks; with one
// lane per row the eight are one key's consecutive row groups and need no padding.
const P_PAD: u32 = select(select(8u / ROW_THREADS, 1u + (ROW_GROUPS & 1u), ROW_THREADS >= 8u), 0u, ROW_THREADS == 1u);
const J_UNROLL: u32 = min(UNROLL, BC);
const MASKED: f32 = -3.0e38f;
const M_INIT: f32 = -1.0e30f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> kv_tile: array<array<vec4<f32>, ROW_THREADS>, BC * TD4>;
var<workgroup> p_tile: array<array<vec4<f32>, ROW_GROUPS + P_PAD>, TM4 * BC>;

// Reads this invocation's share of rows [row0, row0 + BC) of K or V (zero past seq_k) into
// registers: consecutive invocations take consecutive vec4s of a row (coalesced loads). Every
// invocation runs the same iterations, so the loads issue back to back.
fn fetch_kv_tile(src_is_k: bool, base: u32, row0: u32, lid: u32) -> array<vec4<f32>, STAGE> {
  var staged: array<vec4<f32>, STAGE>;
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    var val = vec4<f32>(0.0);
    if ((BC * D4 % WORKGROUP_SIZE == 0u || idx < BC * D4) && row0 + idx / D4 < p.seq_k) {
      let at = base + row0 * D4 + idx;
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

fn store_kv_tile(staged: array<vec4<f32>, STAGE>, lid: u32) {
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BC * D4 % WORKGROUP_SIZE == 0u || idx < BC * D4) {
      let r = idx / D4;
      let c = idx % D4;
      kv_tile[r * TD4 + c / ROW_THREADS][c % ROW_THREADS] = staged[it];
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
  let q_base = (b * p.heads + h) * p.seq_q * D4;
  let kv_base = (b * p.kv_heads + h / p.group_size) * p.seq_k * D4;
  let rg = lid / ROW_THREADS;
  let g = lid % ROW_THREADS;

  // This lane's slice of its rows of Q, pre-scaled; rows past seq_q are zero.
  var q_reg: array<vec4<f32>, TMDS4>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let row = row0 + m * ROW_GROUPS + rg;
    // @unroll
    for (var i = 0u; i < DS4; i++) {
      var val = vec4<f32>(0.0);
      if (row < p.seq_q) {
        val = q[q_base + row * D4 + i * ROW_THREADS + g] * p.scale_log2;
      }
      q_reg[m * DS4 + i] = val;
    }
  }

  // The sink tiles, then the tiles of the rows' windows up to the diagonal.
  let row_end = min(row0 + BR, p.seq_q);
  let key_set = key_tiles(row0, row_end);
  let tiles = key_set.count;

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

    // S = Q Kᵀ, ROW_THREADS keys at a time: partial dot products over this lane's head-dim slice
    // for every (row, key) of the chunk, as explicit fma chains (dot() plus an add would cost a
    // fifth more instructions), then the reduce-scatter hands this lane the full scores of key
    // n·ROW_THREADS + g for each of its rows.
    var s: array<f32, TMTN>;
    // @unroll
    for (var n = 0u; n < TN; n++) {
      var part: array<f32, PART>;
      // @unroll
      for (var kk = 0u; kk < ROW_THREADS; kk++) {
        // @unroll
        for (var m = 0u; m < TM; m++) {
          part[m * ROW_THREADS + kk] = 0.0;
        }
        // @unroll
        for (var i = 0u; i < DS4; i++) {
          let kv = kv_tile[(n * ROW_THREADS + kk) * TD4 + i][g];
          // @unroll
          for (var m = 0u; m < TM; m++) {
            let a = q_reg[m * DS4 + i];
            let x = part[m * ROW_THREADS + kk];
            part[m * ROW_THREADS + kk] = fma(a.w, kv.w, fma(a.z, kv.z, fma(a.y, kv.y, fma(a.x, kv.x, x))));
          }
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
        for (var d = 0u; d < TD4; d++) {
          acc[m * TD4 + d] *= alpha;
        }
      }
    }
    // P for this invocation's keys, four rows to a vec4 so that each key takes TM4 stores.
    var pe: array<vec4<f32>, TNTM4>;
    // @unroll
    for (var i = 0u; i < TNTM4; i++) {
      pe[i] = vec4<f32>(0.0);
    }
    // @unroll
    for (var m = 0u; m < TM; m++) {
      var l = l_part[m];
      // @unroll
      for (var n = 0u; n < TN; n++) {
        let e = exp2(s[m * TN + n] - m_run[m]);
        l += e;
        pe[n * TM4 + m / 4u][m % 4u] = e;
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

    // O += P V: per key, this invocation's TM probabilities times its TD4 vec4s of the V row.
    // Hidden keys have P = 0 and keys past seq_k V = 0, so no tile needs a special case.
    for (var j0 = 0u; j0 < BC / J_UNROLL; j0++) {
      // @unroll
      for (var jj = 0u; jj < J_UNROLL; jj++) {
        let j = j0 * J_UNROLL + jj;
        // P of this key for the invocation's rows, TM4 vec4s (lanes past TM unused when TM < 4).
        var pv: array<vec4<f32>, TM4>;
        // @unroll
        for (var m4 = 0u; m4 < TM4; m4++) {
          pv[m4] = p_tile[m4 * BC + j][rg];
        }
        // @unroll
        for (var d = 0u; d < TD4; d++) {
          let vv = kv_tile[j * TD4 + d][g];
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
      // A row that saw no key (seq_q > seq_k) has sum 0: its output is 0.
      let inv = select(0.0, 1.0 / l_row[m], l_row[m] > 0.0);
      // @unroll
      for (var d = 0u; d < TD4; d++) {
        o[q_base + row * D4 + d * ROW_THREADS + g] = acc[m * TD4 + d] * inv;
      }
    }
  }
}
