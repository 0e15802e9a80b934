// FlashAttention-2 forward pass on subgroup matrices (chromium_experimental_subgroup_matrix:
// cooperative matrices on Vulkan, tensor cores on NVIDIA): f16 Q, K, V and P, f32 accumulation.
//
// Each subgroup owns ROW_BLOCKS blocks of SG_M query rows and keeps their Q as left matrices and
// their output as f32 result matrices for the whole run. Per key tile of BC rows:
//   1. K and V (f16) are staged in workgroup memory; the next tile is fetched into registers.
//   2. S = Q·Kᵀ on the matrix units, one SG_M×SG_N result per key block, stored to tile_s (f32).
//   3. Softmax on the subgroup's lanes: SG_M rows, LANES_PER_ROW lanes per row; the row max goes
//      through subgroup shuffles; P = exp2(S - m) is written to workgroup memory as f16.
//   4. O += P·V on the matrix units, P reloaded as left matrices.
// Result matrices are opaque (no per-row access), so the online softmax cannot scale O's rows in
// registers. Instead the running max only moves when a row's new max exceeds it by more than
// RESCALE_THRESHOLD (in log2 units): until then P = exp2(S - m) ≤ 2^RESCALE_THRESHOLD, exact in f16
// and far from its range limit, and O needs no rescale. When some row does move (at the first
// tile every row does, but then O is still zero), O goes through workgroup memory once, one
// SG_M×SG_N chunk at a time, to be scaled by the lanes. On inputs of one scale this is rare after
// the first tiles.
//
// Q arrives pre-scaled by scale·log2(e) (convert_f16.wgsl), so S is already in exp2 units.
//
// Two variants from this one source (src/wgsl/conditional.ts, flag `hooks`). Dense flash-mma
// (hooks off) writes its key tiles out: every tile up to the causal diagonal, the causal mask
// four keys at a time. With hooks on, the key tiles, the mask and the grid order come from a
// key-tile file composed beside this one, through the hooks flash.wgsl documents (key_tiles,
// key_tile_start, tile_needs_mask, key_hidden, flash_work_item): ../../window/flash/window_tiles.wgsl
// for window-flash-mma, or ../flash/mask_causal.wgsl for the dense loop through the hooks (the same
// attention as hooks off). Everything else, the matrix math and the softmax, is shared.
// Composed after params.wgsl (work_item), the key-tile file (hooks on) and ../flash_global.wgsl
// (fetch_kv_tile: its f16 side).
diagnostic(off, chromium.subgroup_matrix_uniformity);
diagnostic(off, subgroup_uniformity);
enable f16;
enable subgroups;
enable chromium_experimental_subgroup_matrix;

const HEAD_DIM: u32 = 64u;
// Q, K and V in global memory: DV vectors per row, eight packed f16 values to a vec4<u32> (the
// vector type flash_global.wgsl reads K and V as).
alias qkv_t = vec4<u32>;
const DV: u32 = HEAD_DIM / 8u;
// One of the device's subgroup-matrix configurations (f16 operands, f32 result): M×K · K×N.
const SG_M: u32 = 16u;
const SG_N: u32 = 16u;
const SG_K: u32 = 16u;
// The device's subgroup size (the kernel needs a fixed one).
const SUBGROUP_SIZE: u32 = 32u;
const SUBGROUPS: u32 = 4u;
const WORKGROUP_SIZE: u32 = SUBGROUPS * SUBGROUP_SIZE;
const ROW_BLOCKS: u32 = 1u;
const BC: u32 = 64u;
const BR: u32 = SUBGROUPS * ROW_BLOCKS * SG_M;
// Row strides of the workgroup tiles, in elements: 16 bytes of padding put consecutive rows in
// different banks, for the matrix loads (which read rows of 16 bytes) and the lanes' accesses.
const KV_STRIDE: u32 = HEAD_DIM + 8u;
const P_STRIDE: u32 = BC + 8u;
const S_STRIDE: u32 = BC + 4u;
// tile_h holds K, V and P (f16); Q passes through its start once, before the first K.
const K_OFF: u32 = 0u;
const V_OFF: u32 = BC * KV_STRIDE;
const P_OFF: u32 = 2u * BC * KV_STRIDE;
const H_SIZE: u32 = max(P_OFF + BR * P_STRIDE, BR * KV_STRIDE);
const QK_STEPS: u32 = HEAD_DIM / SG_K;
const KEY_BLOCKS: u32 = BC / SG_N;
const PV_STEPS: u32 = BC / SG_K;
const D_BLOCKS: u32 = HEAD_DIM / SG_N;
const QK_MATS: u32 = ROW_BLOCKS * QK_STEPS;
const PV_MATS: u32 = ROW_BLOCKS * PV_STEPS;
const O_MATS: u32 = ROW_BLOCKS * D_BLOCKS;
// Lanes per query row in the softmax, and the shuffle steps of their reductions.
const LANES_PER_ROW: u32 = SUBGROUP_SIZE / SG_M;
const ROW_STEPS: u32 = countTrailingZeros(LANES_PER_ROW);
// vec4s of a row of S (of an SG_N-wide chunk of O) each lane handles.
const S_VEC: u32 = BC / 4u / LANES_PER_ROW;
const O_VEC: u32 = SG_N / 4u / LANES_PER_ROW;
const O_COLS: u32 = O_VEC * 4u;
// vec4s of a K or V tile (or of the Q tile) each invocation carries from global memory.
const STAGE: u32 = (BC * DV + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
const Q_STAGE: u32 = (BR * DV + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
const RESCALE_THRESHOLD: f32 = 8.0f;
const MASKED: f32 = -3.0e38f;
const M_INIT: f32 = -1.0e30f;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> tile_h: array<f16, H_SIZE>;
var<workgroup> tile_s: array<f32, BR * S_STRIDE>;
// Per subgroup: 1 when one of its rows needs O rescaled this tile.
var<workgroup> rescale_flags: array<u32, SUBGROUPS>;

fn store_h8(at: u32, val: vec4<u32>) {
  let a = bitcast<vec2<f16>>(val.x);
  let b = bitcast<vec2<f16>>(val.y);
  let c = bitcast<vec2<f16>>(val.z);
  let d = bitcast<vec2<f16>>(val.w);
  tile_h[at] = a.x;
  tile_h[at + 1u] = a.y;
  tile_h[at + 2u] = b.x;
  tile_h[at + 3u] = b.y;
  tile_h[at + 4u] = c.x;
  tile_h[at + 5u] = c.y;
  tile_h[at + 6u] = d.x;
  tile_h[at + 7u] = d.y;
}

fn store_kv_tile(offset: u32, staged: array<vec4<u32>, STAGE>, lid: u32) {
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BC * DV % WORKGROUP_SIZE == 0u || idx < BC * DV) {
      store_h8(offset + (idx / DV) * KV_STRIDE + (idx % DV) * 8u, staged[it]);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_id) sg: u32, @builtin(subgroup_invocation_id) lane: u32) {
  // Dense: written out rather than through flash.wgsl's flash_tile and key-tile hooks: with them this
  // kernel ran 4% slower at d = 64 on the H200 (bench/gpu/run.sh parity), the flash kernels did not.
  // @if hooks
  let item = flash_work_item(wid);
  // @else
  let item = work_item(wid, BR);
  // @endif
  let row0 = item.x * BR;
  let q_base = (item.z * p.heads + item.y) * p.seq_q * DV;
  let kv_base = (item.z * p.kv_heads + item.y / p.group_size) * p.seq_k * DV;
  let o_base = (item.z * p.heads + item.y) * p.seq_q * (HEAD_DIM / 4u);
  // In the softmax and the O chunks, this lane takes row `lrow` of each of its row blocks, and
  // the `lpart`-th share of that row's columns.
  let lrow = lane % SG_M;
  let lpart = lane / SG_M;

  // Q through workgroup memory (rows past seq_q as zeros) into left matrices.
  // @unroll
  for (var it = 0u; it < Q_STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    if (BR * DV % WORKGROUP_SIZE == 0u || idx < BR * DV) {
      let r = idx / DV;
      var val = vec4<u32>(0u);
      if (row0 + r < p.seq_q) {
        val = q[q_base + (row0 + r) * DV + idx % DV];
      }
      store_h8(r * KV_STRIDE + (idx % DV) * 8u, val);
    }
  }
  workgroupBarrier();
  var q_mat: array<subgroup_matrix_left<f16, SG_K, SG_M>, QK_MATS>;
  // @unroll
  for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
    let block_row = (sg * ROW_BLOCKS + rb) * SG_M;
    // @unroll
    for (var kk = 0u; kk < QK_STEPS; kk++) {
      q_mat[rb * QK_STEPS + kk] = subgroupMatrixLoad<subgroup_matrix_left<f16, SG_K, SG_M>, row_major>(&tile_h, block_row * KV_STRIDE + kk * SG_K, KV_STRIDE);
    }
  }

  let row_end = min(row0 + BR, p.seq_q);
  // @if hooks
  // The key tiles this workgroup visits (the key-tile file's key_tiles).
  let key_set = key_tiles(row0, row_end);
  let tiles = key_set.count;
  // @else
  // Causal: key tiles past the last row's diagonal are never loaded.
  var k_end = p.seq_k;
  if (p.causal != 0u) {
    k_end = u32(clamp(i32(row_end) + p.causal_offset, 0, i32(p.seq_k)));
  }
  let tiles = (k_end + BC - 1u) / BC;
  // @endif

  var o_mat: array<subgroup_matrix_result<f32, SG_N, SG_M>, O_MATS>;
  // @unroll
  for (var i = 0u; i < O_MATS; i++) {
    o_mat[i] = subgroup_matrix_result<f32, SG_N, SG_M>();
  }
  // Running max of this lane's rows (the same in every lane of a row) and this lane's share of
  // their sums.
  var m_run: array<f32, ROW_BLOCKS>;
  var l_part: array<f32, ROW_BLOCKS>;
  // @unroll
  for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
    m_run[rb] = M_INIT;
    l_part[rb] = 0.0;
  }

  // @if hooks
  // With no tile to visit, the first start may lie past seq_k: fetch_kv_tile then reads nothing.
  var staged_k = fetch_kv_tile(true, kv_base, key_tile_start(key_set, 0u), lid);
  var staged_v = fetch_kv_tile(false, kv_base, key_tile_start(key_set, 0u), lid);
  // @else
  var staged_k = fetch_kv_tile(true, kv_base, 0u, lid);
  var staged_v = fetch_kv_tile(false, kv_base, 0u, lid);
  // @endif
  workgroupBarrier(); // every subgroup holds its Q: tile_h is free for K and V

  for (var t = 0u; t < tiles; t++) {
    // @if hooks
    let k0 = key_tile_start(key_set, t);
    // @else
    let k0 = t * BC;
    // @endif
    store_kv_tile(K_OFF, staged_k, lid);
    store_kv_tile(V_OFF, staged_v, lid);
    workgroupBarrier();
    if (t + 1u < tiles) {
      // The next K and V, in flight during this tile's math.
      // @if hooks
      let k_next = key_tile_start(key_set, t + 1u);
      staged_k = fetch_kv_tile(true, kv_base, k_next, lid);
      staged_v = fetch_kv_tile(false, kv_base, k_next, lid);
      // @else
      staged_k = fetch_kv_tile(true, kv_base, k0 + BC, lid);
      staged_v = fetch_kv_tile(false, kv_base, k0 + BC, lid);
      // @endif
    }

    // S = Q·Kᵀ: Kᵀ blocks are K's rows read column-major. Each Kᵀ block serves every row block.
    // @unroll
    for (var nb = 0u; nb < KEY_BLOCKS; nb++) {
      var acc: array<subgroup_matrix_result<f32, SG_N, SG_M>, ROW_BLOCKS>;
      // @unroll
      for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
        acc[rb] = subgroup_matrix_result<f32, SG_N, SG_M>();
      }
      // @unroll
      for (var kk = 0u; kk < QK_STEPS; kk++) {
        let kt = subgroupMatrixLoad<subgroup_matrix_right<f16, SG_N, SG_K>, col_major>(&tile_h, K_OFF + nb * SG_N * KV_STRIDE + kk * SG_K, KV_STRIDE);
        // @unroll
        for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
          acc[rb] = subgroupMatrixMultiplyAccumulate(q_mat[rb * QK_STEPS + kk], kt, acc[rb]);
        }
      }
      // @unroll
      for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
        subgroupMatrixStore<row_major>(&tile_s, (sg * ROW_BLOCKS + rb) * SG_M * S_STRIDE + nb * SG_N, acc[rb], S_STRIDE);
      }
    }
    // WGSL has no subgroup-scope barrier: the lanes that read S are not the ones that wrote it.
    workgroupBarrier();

    // @if hooks
    // Only some tiles (past the end of K, crossing the diagonal, ...: tile_needs_mask) need the
    // element-wise mask (key_hidden, here four keys at a time).
    let mask_tile = tile_needs_mask(k0, row0, row_end - 1u);
    // @else
    // Only tiles past the end of K or crossing the causal diagonal need the element-wise mask
    // (here four keys at a time, in the causal mask's terms).
    let past_end = k0 + BC > p.seq_k;
    let on_diagonal = p.causal != 0u && i32(k0 + BC - 1u) > i32(row0) + p.causal_offset;
    let mask_tile = past_end || on_diagonal;
    // @endif
    var alpha: array<f32, ROW_BLOCKS>;
    var rescale = false;
    // @unroll
    for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
      let r = (sg * ROW_BLOCKS + rb) * SG_M + lrow;
      var sv: array<vec4<f32>, S_VEC>;
      // @unroll
      for (var i = 0u; i < S_VEC; i++) {
        let at = r * S_STRIDE + (lpart * S_VEC + i) * 4u;
        sv[i] = vec4<f32>(tile_s[at], tile_s[at + 1u], tile_s[at + 2u], tile_s[at + 3u]);
      }
      if (mask_tile) {
        let limit = i32(row0 + r) + p.causal_offset;
        // @unroll
        for (var i = 0u; i < S_VEC; i++) {
          let key0 = k0 + (lpart * S_VEC + i) * 4u;
          // @if hooks
          let hidden = vec4<bool>(key_hidden(key0, limit), key_hidden(key0 + 1u, limit), key_hidden(key0 + 2u, limit), key_hidden(key0 + 3u, limit));
          // @else
          let keys = vec4<u32>(key0, key0 + 1u, key0 + 2u, key0 + 3u);
          let hidden = (keys >= vec4<u32>(p.seq_k)) | (vec4<bool>(p.causal != 0u) & (vec4<i32>(keys) > vec4<i32>(limit)));
          // @endif
          sv[i] = select(sv[i], vec4<f32>(MASKED), hidden);
        }
      }
      var mx = MASKED;
      // @unroll
      for (var i = 0u; i < S_VEC; i++) {
        mx = max(mx, max(max(sv[i].x, sv[i].y), max(sv[i].z, sv[i].w)));
      }
      // @unroll
      for (var step = 0u; step < ROW_STEPS; step++) {
        mx = max(mx, subgroupShuffleXor(mx, SG_M << step));
      }
      alpha[rb] = 1.0;
      if (mx > m_run[rb] + RESCALE_THRESHOLD) {
        // A row that has seen no key yet has O = 0 and nothing to rescale.
        rescale = rescale || m_run[rb] != M_INIT;
        alpha[rb] = exp2(m_run[rb] - mx);
        l_part[rb] *= alpha[rb];
        m_run[rb] = mx;
      }
      var l = l_part[rb];
      // @unroll
      for (var i = 0u; i < S_VEC; i++) {
        let e = exp2(sv[i] - vec4<f32>(m_run[rb]));
        l += (e.x + e.y) + (e.z + e.w);
        let at = P_OFF + r * P_STRIDE + (lpart * S_VEC + i) * 4u;
        let eh = vec4<f16>(e);
        tile_h[at] = eh.x;
        tile_h[at + 1u] = eh.y;
        tile_h[at + 2u] = eh.z;
        tile_h[at + 3u] = eh.w;
      }
      l_part[rb] = l;
    }
    let any_rescale = subgroupAny(rescale);
    if (lane == 0u) {
      rescale_flags[sg] = select(0u, 1u, any_rescale);
    }
    // A barrier too: P is complete, and every lane is done reading S.
    let flags = workgroupUniformLoad(&rescale_flags);
    var must_rescale = false;
    // @unroll
    for (var i = 0u; i < SUBGROUPS; i++) {
      must_rescale = must_rescale || flags[i] != 0u;
    }
    if (must_rescale) {
      // O's rows scaled by alpha through workgroup memory (tile_s is free), one chunk at a time.
      // @unroll
      for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
        let block_at = (sg * ROW_BLOCKS + rb) * SG_M * S_STRIDE;
        let row_at = block_at + lrow * S_STRIDE;
        // @unroll
        for (var dn = 0u; dn < D_BLOCKS; dn++) {
          subgroupMatrixStore<row_major>(&tile_s, block_at, o_mat[rb * D_BLOCKS + dn], S_STRIDE);
          workgroupBarrier();
          // @unroll
          for (var i = 0u; i < O_COLS; i++) {
            let at = row_at + lpart * O_COLS + i;
            tile_s[at] *= alpha[rb];
          }
          workgroupBarrier();
          o_mat[rb * D_BLOCKS + dn] = subgroupMatrixLoad<subgroup_matrix_result<f32, SG_N, SG_M>, row_major>(&tile_s, block_at, S_STRIDE);
          workgroupBarrier();
        }
      }
    }

    // O += P·V: V blocks are V's rows read row-major. Each V block serves every row block.
    var p_mat: array<subgroup_matrix_left<f16, SG_K, SG_M>, PV_MATS>;
    // @unroll
    for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
      // @unroll
      for (var kc = 0u; kc < PV_STEPS; kc++) {
        p_mat[rb * PV_STEPS + kc] = subgroupMatrixLoad<subgroup_matrix_left<f16, SG_K, SG_M>, row_major>(&tile_h, P_OFF + (sg * ROW_BLOCKS + rb) * SG_M * P_STRIDE + kc * SG_K, P_STRIDE);
      }
    }
    // @unroll
    for (var dn = 0u; dn < D_BLOCKS; dn++) {
      // @unroll
      for (var kc = 0u; kc < PV_STEPS; kc++) {
        let vb = subgroupMatrixLoad<subgroup_matrix_right<f16, SG_N, SG_K>, row_major>(&tile_h, V_OFF + kc * SG_K * KV_STRIDE + dn * SG_N, KV_STRIDE);
        // @unroll
        for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
          o_mat[rb * D_BLOCKS + dn] = subgroupMatrixMultiplyAccumulate(p_mat[rb * PV_STEPS + kc], vb, o_mat[rb * D_BLOCKS + dn]);
        }
      }
    }
    workgroupBarrier(); // every subgroup is done with this K, V and P
  }

  // Each row's sum from its lanes' shares; then O / l, one chunk at a time through tile_s.
  // @unroll
  for (var rb = 0u; rb < ROW_BLOCKS; rb++) {
    var l = l_part[rb];
    // @unroll
    for (var step = 0u; step < ROW_STEPS; step++) {
      l += subgroupShuffleXor(l, SG_M << step);
    }
    // A row that saw no key (causal, seq_q > seq_k) has sum 0: its output is 0.
    let inv = select(0.0, 1.0 / l, l > 0.0);
    let block_at = (sg * ROW_BLOCKS + rb) * SG_M * S_STRIDE;
    let r = (sg * ROW_BLOCKS + rb) * SG_M + lrow;
    // @unroll
    for (var dn = 0u; dn < D_BLOCKS; dn++) {
      subgroupMatrixStore<row_major>(&tile_s, block_at, o_mat[rb * D_BLOCKS + dn], S_STRIDE);
      workgroupBarrier();
      if (row0 + r < p.seq_q) {
        // @unroll
        for (var i = 0u; i < O_VEC; i++) {
          let c4 = lpart * O_VEC + i;
          let at = block_at + lrow * S_STRIDE + c4 * 4u;
          let val = vec4<f32>(tile_s[at], tile_s[at + 1u], tile_s[at + 2u], tile_s[at + 3u]);
          o[o_base + (row0 + r) * (HEAD_DIM / 4u) + dn * (SG_N / 4u) + c4] = val * inv;
        }
      }
      workgroupBarrier();
    }
  }
}
