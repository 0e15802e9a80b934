// FlashAttention-2 forward pass, in two variants from this one source: f32, and f16 storage with
// packed f16 products and f32 accumulators. The host keeps the lines of one variant
// (src/wgsl/conditional.ts: blocks marked `@if f16` / `@else` / `@endif`), then sets the consts
// and unrolls the marked loops (src/wgsl/specialize.ts); the types that differ are the aliases
// qkv_t and p_t.
//
// One workgroup per (batch, head, tile of BR query rows). The query tile stays in registers for
// the whole run; key and value tiles of BC rows stream through one shared buffer (K, then V); each
// query row keeps a running max and sum in registers, rescales its output accumulator when the max
// moves, and divides by the sum once at the end. S and P never leave the chip: global traffic is
// Q and O once, K and V once per query tile.
//
// Work split: the WORKGROUP_SIZE invocations form ROW_GROUPS groups of ROW_THREADS. Row group rg
// owns query rows rg, rg + ROW_GROUPS, ... (TM of them). Lane g of the group owns
//   - for QKᵀ, the head-dim slice of vector columns g, g + ROW_THREADS, ... (DSV of them) of those
//     rows, held in registers (q_reg): it computes partial dot products of its slice with every key
//     of the tile, and a reduce-scatter across the group's lanes (reduce_scatter_rows) leaves it
//     the full scores of keys g, g + ROW_THREADS, ... (TN of them);
//   - for P·V, output vector columns g, g + ROW_THREADS, ... (TDV of them).
// A vector (qkv_t) is a vec4<f32>, or in f16 a vec4<u32> of eight packed f16 values (DV of them
// per row); both are 16 bytes, so the layouts below serve both variants.
// Why the head-dim split: on NVIDIA (and most GPUs) every lane's load from workgroup memory costs
// crossbar bandwidth, broadcast or not, and the crossbar moves a quarter of what the FMA units
// consume. Keeping Q in registers removes the Q reloads that dominated the loads of QKᵀ; each K
// value a lane loads then feeds TM multiply-adds. The reduce-scatter costs ROW_THREADS - 1 shuffles
// per score spread over the group, far fewer than the Q values it replaces.
//
// Workgroup memory: K and V tiles share one layout, key r's vector column c at
// kv_tile[r·TDV + c / ROW_THREADS][c % ROW_THREADS], so the lanes of a row group read consecutive
// vectors of one row (no bank conflicts), and every read in the hot loops is a constant row of the
// two-dimensional array at column g. WebGPU implementations clamp every dynamic array index
// (robust buffer access); here only the inner index is dynamic, clamped once per invocation and
// hoisted, so each load is a base register plus a constant offset. P, rows m of row group rg for
// key j (four rows to a p_t vector), sits at p_tile[(m / 4)·BC + j][rg]; lanes of different keys
// write it, so its rows are padded (P_PAD) to spread those writes over the banks.
//
// Latency: with PREFETCH, each K or V tile is fetched from global memory into registers one phase
// ahead (V during the QKᵀ of its tile, the next K during PV) and only stored to workgroup memory
// after the barrier, so the loads' latency overlaps arithmetic instead of stalling every warp.
// Loops over the register tiles are marked @unroll: the host expands them so every index into a
// register array is a constant, whatever the driver's unrolling heuristics.
//
// Scores are in log2 units: Q is pre-multiplied by scale·log2(e) (f32: as it is loaded; f16: when
// it was converted, convert_f16.wgsl), so the softmax uses exp2. Masked scores are MASKED, a finite
// stand-in for −∞ (WGSL lets GPUs assume no infinities); running maxima start at M_INIT, far above
// MASKED, so exp2(MASKED − max) is 0 even for a row that has seen only masked keys, and such a row
// ends with sum 0 and output 0.
//
// Where f16 differs, and why. Q, K, V and P are f16 (half the bytes to move and to stage), and
// products and the short sums of one lane's head-dim slice or of one tile's P·V use packed f16
// arithmetic (two multiply-adds per instruction). Everything longer is f32, for accuracy: a score
// is the f32 sum of two f16 partial dot products of d / (2·ROW_THREADS) terms per lane, added
// across lanes in f32 by the reduce-scatter; the running max and sum and the output accumulator
// (to which each tile's f16 partial P·V is added after the rescale) are f32, so the accumulator
// holds two vec4<f32> per vector of V (TDVX2 a row). P vectors are 8 bytes, which changes P_PAD.
//
// Which key tiles a workgroup visits, in what order the grid is taken, and which scores are masked
// come from a key-tile file composed with this one: mask_causal.wgsl (dense attention, causal or
// not: every key tile up to the diagonal) or ../../window/flash/window_tiles.wgsl (sliding window
// with sinks). It defines
//   - key_tiles(row0, row_end) -> KeyTiles: the tiles rows [row0, row_end) visit, `count` of them;
//   - key_tile_start(key_set, t): the first key of the t-th of them;
//   - tile_needs_mask(k0, row0, row_last): whether tile [k0, k0 + BC) needs the element-wise mask
//     (the same for the whole workgroup; most tiles need none and run the loop as is);
//   - key_hidden(key, pos): whether the query at position pos (row + causal_offset) must not see key;
//   - flash_work_item(wid): the (query tile, head, batch) of workgroup wid (flash_global.wgsl).
// Each is a few integer operations, inlined by the compiler.
//
// Composed after params.wgsl (Params, work_item), the row reductions and reduce-scatters
// (row_reduce_*.wgsl, scatter_*.wgsl: reduce_max_rows, reduce_sum_rows, reduce_scatter_rows), the
// key-tile file and ../flash_global.wgsl (fetch_kv_tile).
// @if f16
enable f16;
// @endif

const HEAD_DIM: u32 = 64u;
const BR: u32 = 64u;
const BC: u32 = 32u;
const WORKGROUP_SIZE: u32 = 128u;
const ROW_THREADS: u32 = 8u;
const PREFETCH: bool = true;
// Unroll factor of the PV loop over keys (QKᵀ is unrolled whole: its partial sums are registers).
const UNROLL: u32 = 4u;

// Q, K and V in memory (and kv_tile, q_reg): DV vectors of type qkv_t per row. P: p_t, four rows
// of one key to a vector.
// @if f16
alias qkv_t = vec4<u32>;
alias p_t = vec4<f16>;
const DV: u32 = HEAD_DIM / 8u;
// @else
alias qkv_t = vec4<f32>;
alias p_t = vec4<f32>;
const DV: u32 = HEAD_DIM / 4u;
// @endif
const ROW_GROUPS: u32 = WORKGROUP_SIZE / ROW_THREADS;
const TM: u32 = BR / ROW_GROUPS;
const TN: u32 = BC / ROW_THREADS;
const TDV: u32 = DV / ROW_THREADS;
// The head-dim slice of a lane in QKᵀ has as many vectors as its output columns in PV.
const DSV: u32 = TDV;
const TMTN: u32 = TM * TN;
const TMDSV: u32 = TM * DSV;
// @if f16
// f32 output accumulators: two vec4 per 8-column vector, TDVX2 per row, TDVX in all.
const TDVX2: u32 = TDV * 2u;
const TDVX: u32 = TM * TDVX2;
// @endif
// Partial scores of one chunk of ROW_THREADS keys, [row][key of the chunk], and the halving steps
// of their reduce-scatter (ROW_THREADS is a power of two).
const PART: u32 = TM * ROW_THREADS;
const SCATTER_STEPS: u32 = countTrailingZeros(ROW_THREADS);
const SCATTER_HALF: u32 = ROW_THREADS / 2u;
// P is stored per key as TM4 vectors (four rows each) per row group.
const TM4: u32 = (TM + 3u) / 4u;
const TNTM4: u32 = TN * TM4;
// Vectors of a K or V tile each invocation carries from global to workgroup memory.
const STAGE: u32 = (BC * DV + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
// Accesses to P vectors are served 128 bytes at a time: eight lanes of 16-byte f32 vectors, sixteen
// of 8-byte f16 ones (the PHASE below). Those of one P store are min(ROW_THREADS, PHASE) keys of
// PHASE / min(ROW_THREADS, PHASE) neighbouring row groups. A row stride of an odd number of vectors
// (ROW_THREADS >= PHASE), or of PHASE / ROW_THREADS mod PHASE (fewer threads per row), puts them in
// distinct banks; with one lane per row they are one key's consecutive row groups and need no
// padding.
// @if f16
const P_PAD: u32 = select(select(16u / ROW_THREADS, 1u + (ROW_GROUPS & 1u), ROW_THREADS >= 16u), 0u, ROW_THREADS == 1u);
// @else
const P_PAD: u32 = select(select(8u / ROW_THREADS, 1u + (ROW_GROUPS & 1u), ROW_THREADS >= 8u), 0u, ROW_THREADS == 1u);
// @endif
const J_UNROLL: u32 = min(UNROLL, BC);
const MASKED: f32 = -3.0e38f;
const M_INIT: f32 = -1.0e30f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<qkv_t>;
@group(0) @binding(2) var<storage, read> k: array<qkv_t>;
@group(0) @binding(3) var<storage, read> v: array<qkv_t>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> kv_tile: array<array<qkv_t, ROW_THREADS>, BC * TDV>;
var<workgroup> p_tile: array<array<p_t, ROW_GROUPS + P_PAD>, TM4 * BC>;

// @if f16
fn half2(x: u32) -> vec2<f16> {
  return bitcast<vec2<f16>>(x);
}

// @endif
fn store_kv_tile(staged: array<qkv_t, STAGE>, lid: u32) {
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BC * DV % WORKGROUP_SIZE == 0u || idx < BC * DV) {
      let r = idx / DV;
      let c = idx % DV;
      kv_tile[r * TDV + c / ROW_THREADS][c % ROW_THREADS] = staged[it];
    }
  }
}

// The tile a workgroup takes (flash_work_item, from the key-tile file composed beside this one:
// flash/mask_causal.wgsl takes params.wgsl's work_item), as offsets into global memory.
struct FlashTile {
  // The tile's first query row.
  row0: u32,
  // Where its head's rows start in Q, its KV head's in K and V (DV vectors a row), and its head's
  // in O (HEAD_DIM / 4 vec4<f32> a row).
  q_base: u32,
  kv_base: u32,
  o_base: u32,
}

fn flash_tile(wid: vec3<u32>) -> FlashTile {
  let item = flash_work_item(wid);
  let b = item.z;
  let h = item.y;
  return FlashTile(
    item.x * BR,
    (b * p.heads + h) * p.seq_q * DV,
    (b * p.kv_heads + h / p.group_size) * p.seq_k * DV,
    (b * p.heads + h) * p.seq_q * (HEAD_DIM / 4u)
  );
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = flash_tile(wid);
  let row0 = tile.row0;
  let rg = lid / ROW_THREADS;
  let g = lid % ROW_THREADS;

  // This lane's slice of its rows of Q, pre-scaled; rows past seq_q are zero.
  var q_reg: array<qkv_t, TMDSV>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let row = row0 + m * ROW_GROUPS + rg;
    // @unroll
    for (var i = 0u; i < DSV; i++) {
      // @if f16
      var val = vec4<u32>(0u);
      if (row < p.seq_q) {
        val = q[tile.q_base + row * DV + i * ROW_THREADS + g];
      }
      // @else
      var val = vec4<f32>(0.0);
      if (row < p.seq_q) {
        val = q[tile.q_base + row * DV + i * ROW_THREADS + g] * p.scale_log2;
      }
      // @endif
      q_reg[m * DSV + i] = val;
    }
  }

  // The key tiles this workgroup visits (the key-tile file's key_tiles).
  let row_end = min(row0 + BR, p.seq_q);
  let key_set = key_tiles(row0, row_end);
  let tiles = key_set.count;

  // @if f16
  var acc: array<vec4<f32>, TDVX>;
  // @else
  var acc: array<vec4<f32>, TM * TDV>;
  // @endif
  var m_run: array<f32, TM>;
  var l_part: array<f32, TM>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    m_run[m] = M_INIT;
    l_part[m] = 0.0;
    // @if !f16
    // @unroll
    for (var d = 0u; d < TDV; d++) {
      acc[m * TDV + d] = vec4<f32>(0.0);
    }
    // @endif
  }
  // @if f16
  // @unroll
  for (var i = 0u; i < TDVX; i++) {
    acc[i] = vec4<f32>(0.0);
  }
  // @endif

  var staged: array<qkv_t, STAGE>;
  if (PREFETCH && tiles > 0u) {
    staged = fetch_kv_tile(true, tile.kv_base, key_tile_start(key_set, 0u), lid);
  }
  for (var t = 0u; t < tiles; t++) {
    let k0 = key_tile_start(key_set, t);
    workgroupBarrier(); // the previous tile's reads of kv_tile (V) and p_tile are done
    if (!PREFETCH) {
      staged = fetch_kv_tile(true, tile.kv_base, k0, lid);
    }
    store_kv_tile(staged, lid);
    workgroupBarrier();
    if (PREFETCH) {
      staged = fetch_kv_tile(false, tile.kv_base, k0, lid); // V of this tile, in flight during QKᵀ
    }

    // S = Q Kᵀ, ROW_THREADS keys at a time: partial dot products over this lane's head-dim slice
    // for every (row, key) of the chunk, then the reduce-scatter hands this lane the full scores
    // of key n·ROW_THREADS + g for each of its rows. In f32 they are explicit fma chains (dot()
    // plus an add would cost a fifth more instructions); in f16, packed f16 fmas summed to f32
    // (reduce-scattering the packed f16 pairs instead, half the conversions, measured 8% slower on
    // the H100).
    var s: array<f32, TMTN>;
    // @unroll
    for (var n = 0u; n < TN; n++) {
      var part: array<f32, PART>;
      // @unroll
      for (var kk = 0u; kk < ROW_THREADS; kk++) {
        // @if f16
        var part2: array<vec2<f16>, TM>;
        // @endif
        // @unroll
        for (var m = 0u; m < TM; m++) {
          // @if f16
          part2[m] = vec2<f16>(0.0h);
          // @else
          part[m * ROW_THREADS + kk] = 0.0;
          // @endif
        }
        // @unroll
        for (var i = 0u; i < DSV; i++) {
          let kv = kv_tile[(n * ROW_THREADS + kk) * TDV + i][g];
          // @unroll
          for (var m = 0u; m < TM; m++) {
            let a = q_reg[m * DSV + i];
            // @if f16
            var x = part2[m];
            x = fma(half2(a.x), half2(kv.x), x);
            x = fma(half2(a.y), half2(kv.y), x);
            x = fma(half2(a.z), half2(kv.z), x);
            x = fma(half2(a.w), half2(kv.w), x);
            part2[m] = x;
            // @else
            let x = part[m * ROW_THREADS + kk];
            part[m * ROW_THREADS + kk] = fma(a.w, kv.w, fma(a.z, kv.z, fma(a.y, kv.y, fma(a.x, kv.x, x))));
            // @endif
          }
        }
        // @if f16
        // @unroll
        for (var m = 0u; m < TM; m++) {
          part[m * ROW_THREADS + kk] = f32(part2[m].x) + f32(part2[m].y);
        }
        // @endif
      }
      let full = reduce_scatter_rows(part, lid);
      // @unroll
      for (var m = 0u; m < TM; m++) {
        s[m * TN + n] = full[m];
      }
    }

    // Only some tiles (past the end of K, crossing the diagonal, ...: tile_needs_mask) need the
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
        // @if f16
        // @unroll
        for (var d = 0u; d < TDVX2; d++) {
          acc[m * TDVX2 + d] *= alpha;
        }
        // @else
        // @unroll
        for (var d = 0u; d < TDV; d++) {
          acc[m * TDV + d] *= alpha;
        }
        // @endif
      }
    }
    // P for this invocation's keys, four rows to a vector so that each key takes TM4 stores.
    var pe: array<p_t, TNTM4>;
    // @unroll
    for (var i = 0u; i < TNTM4; i++) {
      // @if f16
      pe[i] = vec4<f16>(0.0h);
      // @else
      pe[i] = vec4<f32>(0.0);
      // @endif
    }
    // @unroll
    for (var m = 0u; m < TM; m++) {
      var l = l_part[m];
      // @unroll
      for (var n = 0u; n < TN; n++) {
        let e = exp2(s[m * TN + n] - m_run[m]);
        l += e;
        // @if f16
        pe[n * TM4 + m / 4u][m % 4u] = f16(e);
        // @else
        pe[n * TM4 + m / 4u][m % 4u] = e;
        // @endif
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
      staged = fetch_kv_tile(false, tile.kv_base, k0, lid);
    }
    store_kv_tile(staged, lid);
    if (PREFETCH && t + 1u < tiles) {
      staged = fetch_kv_tile(true, tile.kv_base, key_tile_start(key_set, t + 1u), lid); // the next K, in flight during PV
    }
    workgroupBarrier();

    // O += P V: per key, this invocation's TM probabilities times its TDV vectors of the V row.
    // Hidden keys have P = 0 and keys past seq_k V = 0, so no tile needs a special case. In f16 the
    // tile's P V is summed in f16 (at most BC terms per sum), then added to the f32 accumulator.
    // @if f16
    var part_o: array<vec4<f16>, TDVX>;
    // @unroll
    for (var i = 0u; i < TDVX; i++) {
      part_o[i] = vec4<f16>(0.0h);
    }
    // @endif
    for (var j0 = 0u; j0 < BC / J_UNROLL; j0++) {
      // @unroll
      for (var jj = 0u; jj < J_UNROLL; jj++) {
        let j = j0 * J_UNROLL + jj;
        // P of this key for the invocation's rows, TM4 vectors (lanes past TM unused when TM < 4).
        var pv: array<p_t, TM4>;
        // @unroll
        for (var m4 = 0u; m4 < TM4; m4++) {
          pv[m4] = p_tile[m4 * BC + j][rg];
        }
        // @unroll
        for (var d = 0u; d < TDV; d++) {
          let vv = kv_tile[j * TDV + d][g];
          // @if f16
          let lo = bitcast<vec4<f16>>(vv.xy);
          let hi = bitcast<vec4<f16>>(vv.zw);
          // @endif
          // @unroll
          for (var m = 0u; m < TM; m++) {
            // @if f16
            let pm = vec4<f16>(pv[m / 4u][m % 4u]);
            let at = (m * TDV + d) * 2u;
            part_o[at] = fma(pm, lo, part_o[at]);
            part_o[at + 1u] = fma(pm, hi, part_o[at + 1u]);
            // @else
            acc[m * TDV + d] = fma(vec4<f32>(pv[m / 4u][m % 4u]), vv, acc[m * TDV + d]);
            // @endif
          }
        }
      }
    }
    // @if f16
    // @unroll
    for (var i = 0u; i < TDVX; i++) {
      acc[i] += vec4<f32>(part_o[i]);
    }
    // @endif
  }

  let l_row = reduce_sum_rows(l_part, lid);
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let row = row0 + m * ROW_GROUPS + rg;
    if (row < p.seq_q) {
      // A row that saw no key (causal, seq_q > seq_k) has sum 0: its output is 0.
      let inv = select(0.0, 1.0 / l_row[m], l_row[m] > 0.0);
      // @unroll
      for (var d = 0u; d < TDV; d++) {
        // @if f16
        // Vector d of this lane covers output vec4 columns 2·(d·ROW_THREADS + g) and the next.
        let col4 = 2u * (d * ROW_THREADS + g);
        let at = (m * TDV + d) * 2u;
        o[tile.o_base + row * (HEAD_DIM / 4u) + col4] = acc[at] * inv;
        o[tile.o_base + row * (HEAD_DIM / 4u) + col4 + 1u] = acc[at + 1u] * inv;
        // @else
        o[tile.q_base + row * DV + d * ROW_THREADS + g] = acc[m * TDV + d] * inv;
        // @endif
      }
    }
  }
}
