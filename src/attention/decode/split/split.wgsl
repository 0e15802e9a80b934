// Split-KV decode, pass 1: workgroup (split · row_tiles + row tile, kv head, sequence) reads keys
// [split · CHUNK, min((split + 1) · CHUNK, len)) of one kv head once, for ROWS query rows of its
// GQA group (heads sharing the kv head × the Nq query rows), and writes each row's running max,
// sum and unnormalized output to the partials. Invocations form KEY_GROUPS groups of LANES; a group
// takes one key at a time, each lane one or more 16-byte vectors of the row (adjacent lanes read
// adjacent vectors: coalesced), so a step reads KEY_GROUPS · UNROLL consecutive K and V rows.
// Composed with params.wgsl, kv_f32.wgsl or kv_f16.wgsl, and reduce_subgroup.wgsl or
// reduce_workgroup.wgsl.

const HEAD_DIM: u32 = 128u;
const WORKGROUP_SIZE: u32 = 128u;
const LANES: u32 = 16u;
const UNROLL: u32 = 4u;
const ROWS: u32 = 4u;
const CHUNK: u32 = 256u;
const PAGED: bool = false;
const BLOCK: u32 = 16u;
// 16-byte vectors per K/V row, and per lane.
const ROW_VECTORS: u32 = 16u;
const LANE_VECTORS: u32 = 1u;

const KEY_GROUPS: u32 = WORKGROUP_SIZE / LANES;
const SCORES: u32 = UNROLL * ROWS;
const D4: u32 = HEAD_DIM / 4u;
// vec4<f32> of a row each lane holds (Q slice, output accumulator).
const LANE_VEC4: u32 = LANE_VECTORS * HALVES;
const KEY_VECTORS: u32 = UNROLL * LANE_VECTORS;
const ACC_VEC4: u32 = ROWS * LANE_VEC4;
// Block-table entries of one chunk (paged): looked up once per block, not per key.
const CHUNK_BLOCKS: u32 = CHUNK / BLOCK;

@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> context_lens: array<u32>;
@group(0) @binding(5) var<storage, read> block_table: array<u32>;
@group(0) @binding(6) var<storage, read_write> part_o: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> part_ml: array<vec2<f32>>;

var<workgroup> wg_len: u32;
var<workgroup> wg_blocks: array<u32, CHUNK_BLOCKS>;
var<workgroup> wg_max: array<f32, KEY_GROUPS * ROWS>;
var<workgroup> wg_sum: array<f32, KEY_GROUPS * ROWS>;
var<workgroup> wg_acc: array<vec4<f32>, KEY_GROUPS * D4>;

// First 16-byte vector of key j's row for kv head kvh of sequence b.
fn row_vector(b: u32, kvh: u32, j: u32, start: u32) -> u32 {
  if (PAGED) {
    let block = wg_blocks[(j - start) / BLOCK];
    return ((block * p.kv_heads + kvh) * BLOCK + j % BLOCK) * ROW_VECTORS;
  }
  return ((b * p.kv_heads + kvh) * p.seq_k + j) * ROW_VECTORS;
}

// Output row (b, h, i) of group row r of kv head kvh.
fn output_row(b: u32, kvh: u32, r: u32) -> u32 {
  let h = kvh * p.group + r / p.seq_q;
  return (b * p.heads + h) * p.seq_q + r % p.seq_q;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row_tile = wid.x % p.row_tiles;
  let split = wid.x / p.row_tiles;
  let kvh = wid.y;
  let b = wid.z;
  if (lid == 0u) {
    wg_len = context_lens[b];
  }
  let len = workgroupUniformLoad(&wg_len);
  let start = split * CHUNK;
  // A split past this sequence's end does nothing: the merge never reads it.
  if (start >= len) {
    return;
  }
  let end = min(start + CHUNK, len);
  if (PAGED) {
    for (var t = lid; t < CHUNK_BLOCKS; t += WORKGROUP_SIZE) {
      // Slots past the context may hold anything: never read them.
      let inside = start + t * BLOCK < end;
      wg_blocks[t] = select(0u, block_table[b * p.table_slots + start / BLOCK + t], inside);
    }
    workgroupBarrier();
  }
  let key_group = lid / LANES;
  let lane = lid % LANES;

  // This lane's slice of each row's query, pre-scaled by scale·log2(e); rows past the group are
  // zero and see no key.
  var qs: array<vec4<f32>, ACC_VEC4>;
  var visible: array<u32, ROWS>;
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    let row = row_tile * ROWS + r;
    let real = row < p.rows;
    let out_row = output_row(b, kvh, min(row, p.rows - 1u));
    visible[r] = select(0u, len - p.seq_q + row % p.seq_q + 1u, real);
    // @unroll
    for (var t = 0u; t < LANE_VECTORS; t++) {
      // @unroll
      for (var h = 0u; h < HALVES; h++) {
        let column = ((t * LANES + lane) * HALVES + h);
        qs[r * LANE_VEC4 + t * HALVES + h] = select(vec4<f32>(0.0), q[out_row * D4 + column] * p.scale_log2, real);
      }
    }
  }

  var m: array<f32, ROWS>;
  var l: array<f32, ROWS>;
  var acc: array<vec4<f32>, ACC_VEC4>;
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    m[r] = NO_KEY;
    l[r] = 0.0;
  }

  for (var base = start; base < end; base += KEY_GROUPS * UNROLL) {
    // Issue every K and V load of the step first, so their latencies overlap. Keys past the chunk
    // re-read its last key (in bounds, never a stale table slot) and are masked below.
    var ks: array<KvRaw, KEY_VECTORS>;
    var vs: array<KvRaw, KEY_VECTORS>;
    // @unroll
    for (var u = 0u; u < UNROLL; u++) {
      let j = min(base + u * KEY_GROUPS + key_group, end - 1u);
      let first = row_vector(b, kvh, j, start) + lane;
      // @unroll
      for (var t = 0u; t < LANE_VECTORS; t++) {
        ks[u * LANE_VECTORS + t] = k_cache[first + t * LANES];
        vs[u * LANE_VECTORS + t] = v_cache[first + t * LANES];
      }
    }
    var part: array<f32, SCORES>;
    // @unroll
    for (var u = 0u; u < UNROLL; u++) {
      // @unroll
      for (var r = 0u; r < ROWS; r++) {
        var dot_part = 0.0;
        // @unroll
        for (var t = 0u; t < LANE_VECTORS; t++) {
          // @unroll
          for (var h = 0u; h < HALVES; h++) {
            dot_part += dot(qs[r * LANE_VEC4 + t * HALVES + h], kv_part(ks[u * LANE_VECTORS + t], h));
          }
        }
        part[u * ROWS + r] = dot_part;
      }
    }
    let scores = reduce_scores(part, lid);
    // @unroll
    for (var r = 0u; r < ROWS; r++) {
      var step_max = m[r];
      var s: array<f32, UNROLL>;
      // @unroll
      for (var u = 0u; u < UNROLL; u++) {
        let j = base + u * KEY_GROUPS + key_group;
        s[u] = select(MASKED, scores[u * ROWS + r], j < end && j < visible[r]);
        step_max = max(step_max, s[u]);
      }
      let correction = exp2(m[r] - step_max);
      m[r] = step_max;
      l[r] *= correction;
      // @unroll
      for (var c = 0u; c < LANE_VEC4; c++) {
        acc[r * LANE_VEC4 + c] *= correction;
      }
      // @unroll
      for (var u = 0u; u < UNROLL; u++) {
        let weight = exp2(s[u] - step_max);
        l[r] += weight;
        // @unroll
        for (var t = 0u; t < LANE_VECTORS; t++) {
          // @unroll
          for (var h = 0u; h < HALVES; h++) {
            let c = r * LANE_VEC4 + t * HALVES + h;
            acc[c] += weight * kv_part(vs[u * LANE_VECTORS + t], h);
          }
        }
      }
    }
  }

  // Merge the key groups of the workgroup: rescale each to the rows' common max, then sum sums
  // and output slices through workgroup memory, one row at a time.
  if (lane == 0u) {
    // @unroll
    for (var r = 0u; r < ROWS; r++) {
      wg_max[key_group * ROWS + r] = m[r];
    }
  }
  workgroupBarrier();
  var row_max: array<f32, ROWS>;
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    var mx = NO_KEY;
    for (var g = 0u; g < KEY_GROUPS; g++) {
      mx = max(mx, wg_max[g * ROWS + r]);
    }
    row_max[r] = mx;
    let factor = exp2(m[r] - mx);
    if (lane == 0u) {
      wg_sum[key_group * ROWS + r] = l[r] * factor;
    }
    // @unroll
    for (var c = 0u; c < LANE_VEC4; c++) {
      acc[r * LANE_VEC4 + c] *= factor;
    }
  }
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    // @unroll
    for (var t = 0u; t < LANE_VECTORS; t++) {
      // @unroll
      for (var h = 0u; h < HALVES; h++) {
        wg_acc[key_group * D4 + (t * LANES + lane) * HALVES + h] = acc[r * LANE_VEC4 + t * HALVES + h];
      }
    }
    workgroupBarrier();
    let row = row_tile * ROWS + r;
    if (row < p.rows) {
      let slot = output_row(b, kvh, row) * p.splits + split;
      for (var c = lid; c < D4; c += WORKGROUP_SIZE) {
        var sum = vec4<f32>(0.0);
        for (var g = 0u; g < KEY_GROUPS; g++) {
          sum += wg_acc[g * D4 + c];
        }
        part_o[slot * D4 + c] = sum;
      }
      if (lid == 0u) {
        var total = 0.0;
        for (var g = 0u; g < KEY_GROUPS; g++) {
          total += wg_sum[g * ROWS + r];
        }
        part_ml[slot] = vec2<f32>(row_max[r], total);
      }
    }
    workgroupBarrier();
  }
}
