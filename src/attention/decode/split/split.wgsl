// Split-KV decode, pass 1: workgroup (split · row_tiles + row tile, kv head, sequence) streams keys
// [split · CHUNK, min((split + 1) · CHUNK, len)) of one kv head once, for ROWS query rows of its
// GQA group (heads sharing the kv head × the Nq query rows), and writes each row's max, sum and
// unnormalized output to the partials. Composed with params.wgsl, kv_f32.wgsl or kv_f16.wgsl, and
// reduce_subgroup.wgsl or reduce_workgroup.wgsl.
//
// The keys go by in tiles of TILE = WORKGROUP_SIZE / LANES (from a staggered first tile). Per tile:
//  1. every invocation loads LANE_VECTORS 16-byte vectors of K (consecutive invocations, consecutive
//     vectors: coalesced) and LANE_VECTORS of V (for its own P·V keys, also coalesced), and stores
//     the K vectors in workgroup memory (rows padded so that step 2 reads without bank conflicts);
//  2. scores: LANES invocations take one key, each a slice of its row, and compute the slice's dot
//     product with every row of the query tile (Q pre-scaled in workgroup memory); the LANES
//     partial sums meet in one short reduction (log2 LANES shuffles, or workgroup memory). No
//     invocation sums over more than LANES lanes, and each K value is widened once;
//  3. each row's tile max, through one atomicMax per subgroup (per key without subgroups) on an
//     order-preserving integer image of the score, gives the rows' new running max; P = 2^(s − m)
//     goes to workgroup memory;
//  4. P·V: invocation (column vector, slice) rescales its rows' accumulators once and adds P·V over
//     the tile's keys of its slice, from the V vectors it loaded in step 1.
// At the end the slices' accumulators and sums meet in workgroup memory, one row at a time.

const HEAD_DIM: u32 = 128u;
const WORKGROUP_SIZE: u32 = 128u;
// Invocations sharing one key's dot products in step 2.
const LANES: u32 = 4u;
const ROWS: u32 = 4u;
const CHUNK: u32 = 1024u;
const PAGED: bool = false;
const BLOCK: u32 = 16u;
// 16-byte vectors per K/V row.
const ROW_VECTORS: u32 = 16u;
// V: 16-byte vectors per V row that P·V reads: ROW_VECTORS for decode; MLA reads V as the first
// V_VECTORS vectors of each K row (its latent, without the rope part), from the same cache.
const V_VECTORS: u32 = 16u;
// log2(LANES): the butterfly steps of a key's sum (reduce_subgroup.wgsl).
const LANE_STEPS: u32 = 2u;
// Workgroups start their chunk at different tiles (then wrap around), so that the workgroups
// running side by side read addresses that differ in their low bits, not only by multiples of the
// chunk and of the kv head's stride (which can land on the same memory channels).
const STAGGER: bool = true;
// Padded row of the K tile, in vectors (K_STRIDE / LANES odd), so that the eight invocations of a
// quarter warp (LANES lanes each of 8 / LANES keys) read eight different 16-byte bank groups.
const K_STRIDE: u32 = 20u;

const D4: u32 = HEAD_DIM / 4u;
const VD4: u32 = V_VECTORS * HALVES;
const TILE: u32 = WORKGROUP_SIZE / LANES;
// K vectors one lane reads per key, and vectors of K (and of V) each invocation loads per tile.
const LANE_VECTORS: u32 = ROW_VECTORS / LANES;
// P·V: invocations per row (one 16-byte column vector each) and key slices.
const SLICES: u32 = WORKGROUP_SIZE / V_VECTORS;
const PV_KEYS: u32 = TILE / SLICES;
// Block-table entries of one chunk (paged): looked up once per block, not per key.
const CHUNK_BLOCKS: u32 = CHUNK / BLOCK;
// The K tile's vectors; after the last tile they hold the slices' accumulators.
const K_TILE_VECTORS: u32 = max(TILE * K_STRIDE, SLICES * VD4);

@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> context_lens: array<u32>;
@group(0) @binding(5) var<storage, read> block_table: array<u32>;
@group(0) @binding(6) var<storage, read_write> part_o: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> part_ml: array<vec2<f32>>;

var<workgroup> wg_len: u32;
var<workgroup> wg_blocks: array<u32, CHUNK_BLOCKS>;
var<workgroup> wg_q: array<vec4<f32>, ROWS * D4>;
var<workgroup> wg_k: array<KvRaw, K_TILE_VECTORS>;
var<workgroup> wg_p: array<f32, ROWS * TILE>;
// Each row's tile max as an order-preserving u32 (0 before the tile's first offer).
var<workgroup> wg_max_key: array<atomic<u32>, ROWS>;
var<workgroup> wg_sum: array<f32, SLICES>;

// Order-preserving image of a finite f32 in u32 (larger float, larger key), and back.
fn order_key(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn from_order_key(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

// First 16-byte vector of key j's row for kv head kvh of sequence b.
fn row_vector(b: u32, kvh: u32, j: u32, start: u32) -> u32 {
  if (PAGED) {
    let block = wg_blocks[(j - start) / BLOCK];
    return ((block * p.kv_heads + kvh) * BLOCK + j % BLOCK) * ROW_VECTORS;
  }
  return ((b * p.kv_heads + kvh) * p.seq_k + j) * ROW_VECTORS;
}

// @if prefetch
// This invocation's K vectors of the tile of keys from base (step 1's coalesced pattern).
fn load_k(b: u32, kvh: u32, base: u32, start: u32, end: u32, lid: u32) -> array<KvRaw, LANE_VECTORS> {
  var ks = array<KvRaw, LANE_VECTORS>();
  // @unroll
  for (var t = 0u; t < LANE_VECTORS; t++) {
    let i = t * WORKGROUP_SIZE + lid;
    let j = min(base + i / ROW_VECTORS, end - 1u);
    ks[t] = k_cache[row_vector(b, kvh, j, start) + i % ROW_VECTORS];
  }
  return ks;
}

// @endif
// @if prefetch_v
// This invocation's V vectors of the tile of keys from base (its own P·V keys and column).
fn load_v(b: u32, kvh: u32, base: u32, start: u32, end: u32, slice: u32, column: u32) -> array<KvRaw, PV_KEYS> {
  var vs = array<KvRaw, PV_KEYS>();
  // @unroll
  for (var t = 0u; t < PV_KEYS; t++) {
    let j = min(base + slice + t * SLICES, end - 1u);
    vs[t] = v_cache[row_vector(b, kvh, j, start) + column];
  }
  return vs;
}

// @endif
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
  }
  // The tile's query rows, pre-scaled by scale·log2(e); rows past the group are zero and see no key.
  for (var i = lid; i < ROWS * D4; i += WORKGROUP_SIZE) {
    let row = row_tile * ROWS + i / D4;
    let real = row < p.rows;
    let at = output_row(b, kvh, min(row, p.rows - 1u)) * D4 + i % D4;
    wg_q[i] = select(vec4<f32>(0.0), q[at] * p.scale_log2, real);
  }
  if (lid < ROWS) {
    atomicStore(&wg_max_key[lid], 0u);
  }
  var visible: array<u32, ROWS>;
  var m: array<f32, ROWS>;
  var l: array<f32, ROWS>;
  var acc: array<vec4<f32>, ROWS * HALVES>;
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    let row = row_tile * ROWS + r;
    visible[r] = select(0u, len - p.seq_q + row % p.seq_q + 1u, row < p.rows);
    m[r] = NO_KEY;
    l[r] = 0.0;
    // @unroll
    for (var h = 0u; h < HALVES; h++) {
      acc[r * HALVES + h] = vec4<f32>(0.0);
    }
  }
  workgroupBarrier();

  // Step 2's key and lane; step 4's column vector and slice.
  let key = lid / LANES;
  let lane = lid % LANES;
  let column = lid % V_VECTORS;
  let slice = lid / V_VECTORS;
  // @if q_regs
  // This lane reads the same vectors of every key, so its slices of the query rows are loaded from
  // workgroup memory once, not once per tile: with a GQA group of 4 those reads were most of the
  // workgroup-memory traffic (an H200 streamed the same cache at 3.86 TB/s for one row per kv head,
  // 2.33 TB/s for four).
  var qr: array<vec4<f32>, LANE_VECTORS * HALVES * ROWS>;
  // @unroll
  for (var t = 0u; t < LANE_VECTORS; t++) {
    // @unroll
    for (var h = 0u; h < HALVES; h++) {
      // @unroll
      for (var r = 0u; r < ROWS; r++) {
        qr[(t * HALVES + h) * ROWS + r] = wg_q[r * D4 + (t * LANES + lane) * HALVES + h];
      }
    }
  }
  // @endif

  let tiles = (end - start + TILE - 1u) / TILE;
  let first = select(0u, (split + 7u * (b * p.kv_heads + kvh)) % tiles, STAGGER);
  // @if prefetch
  var ks_next = load_k(b, kvh, start + first * TILE, start, end, lid);
  // @endif
  // @if prefetch_v
  var vs_next = load_v(b, kvh, start + first * TILE, start, end, slice, column);
  // @endif
  for (var n = 0u; n < tiles; n++) {
    let base = start + select(first + n, first + n - tiles, first + n >= tiles) * TILE;
    // 1. Loads. Keys past the chunk re-read its last key (in bounds, never a stale table slot);
    // their scores are masked.
    // @if prefetch
    let ks = ks_next;
    // @else
    var ks: array<KvRaw, LANE_VECTORS>;
    // @endif
    // @if prefetch_v
    let vs = vs_next;
    // @else
    var vs: array<KvRaw, PV_KEYS>;
    // @endif
    // @if !prefetch
    // @unroll
    for (var t = 0u; t < LANE_VECTORS; t++) {
      let i = t * WORKGROUP_SIZE + lid;
      let j = min(base + i / ROW_VECTORS, end - 1u);
      ks[t] = k_cache[row_vector(b, kvh, j, start) + i % ROW_VECTORS];
    }
    // @endif
    // @if !prefetch_v
    // @unroll
    for (var t = 0u; t < PV_KEYS; t++) {
      let j = min(base + slice + t * SLICES, end - 1u);
      vs[t] = v_cache[row_vector(b, kvh, j, start) + column];
    }
    // @endif
    // @unroll
    for (var t = 0u; t < LANE_VECTORS; t++) {
      let i = t * WORKGROUP_SIZE + lid;
      wg_k[(i / ROW_VECTORS) * K_STRIDE + i % ROW_VECTORS] = ks[t];
    }
    workgroupBarrier();
    // @if prefetch
    // The next tile's K loads go out now and land while this tile's scores, softmax and P·V run
    // (two more barriers): without them each tile waited for its own K before any work.
    if (n + 1u < tiles) {
      let next = select(first + n + 1u, first + n + 1u - tiles, first + n + 1u >= tiles);
      ks_next = load_k(b, kvh, start + next * TILE, start, end, lid);
      // @if prefetch_v
      // V one tile ahead as well: issued at the tile's top, its loads had only the scoring to land in.
      vs_next = load_v(b, kvh, start + next * TILE, start, end, slice, column);
      // @endif
    }
    // @endif

    // 2. This lane's slice of key `key`'s dot product with every row.
    var part: array<f32, ROWS>;
    // @unroll
    for (var r = 0u; r < ROWS; r++) {
      part[r] = 0.0;
    }
    // @unroll
    for (var t = 0u; t < LANE_VECTORS; t++) {
      let vector = t * LANES + lane;
      let raw = wg_k[key * K_STRIDE + vector];
      // @unroll
      for (var h = 0u; h < HALVES; h++) {
        let kv = kv_part(raw, h);
        // @unroll
        for (var r = 0u; r < ROWS; r++) {
          // @if q_regs
          part[r] += dot(qr[(t * HALVES + h) * ROWS + r], kv);
          // @else
          part[r] += dot(wg_q[r * D4 + vector * HALVES + h], kv);
          // @endif
        }
      }
    }
    let dots = key_scores(part, lid);
    let j = base + key;
    var s: array<f32, ROWS>;
    // @unroll
    for (var r = 0u; r < ROWS; r++) {
      s[r] = select(MASKED, dots[r], j < end && j < visible[r]);
      // 3. The tile max of each row.
      offer_max(r, s[r], lane);
    }
    workgroupBarrier();

    var alpha: array<f32, ROWS>;
    // @unroll
    for (var r = 0u; r < ROWS; r++) {
      let m_new = max(m[r], from_order_key(atomicLoad(&wg_max_key[r])));
      alpha[r] = exp2(m[r] - m_new);
      m[r] = m_new;
      if (r % LANES == lane) {
        wg_p[r * TILE + key] = exp2(s[r] - m_new);
      }
    }
    workgroupBarrier();
    // Every invocation has read the maxima (before the barrier): clear them for the next tile,
    // whose offers come after its first barrier.
    if (lid < ROWS) {
      atomicStore(&wg_max_key[lid], 0u);
    }

    // 4. P·V over this slice's keys of the tile.
    // @unroll
    for (var r = 0u; r < ROWS; r++) {
      l[r] *= alpha[r];
      // @unroll
      for (var h = 0u; h < HALVES; h++) {
        acc[r * HALVES + h] *= alpha[r];
      }
    }
    // @unroll
    for (var t = 0u; t < PV_KEYS; t++) {
      let jj = slice + t * SLICES;
      var w: array<f32, ROWS>;
      // @unroll
      for (var r = 0u; r < ROWS; r++) {
        w[r] = wg_p[r * TILE + jj];
        l[r] += w[r];
      }
      // @unroll
      for (var h = 0u; h < HALVES; h++) {
        let value = kv_part(vs[t], h);
        // @unroll
        for (var r = 0u; r < ROWS; r++) {
          acc[r * HALVES + h] += w[r] * value;
        }
      }
    }
  }

  // Sum the slices' accumulators and sums (they share each row's max), one row at a time, in the
  // K tile's memory (its last reads were before the last tile's second barrier).
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    // @unroll
    for (var h = 0u; h < HALVES; h++) {
      wg_k[slice * VD4 + column * HALVES + h] = to_raw(acc[r * HALVES + h]);
    }
    if (column == 0u) {
      wg_sum[slice] = l[r];
    }
    workgroupBarrier();
    let row = row_tile * ROWS + r;
    if (row < p.rows) {
      let slot = output_row(b, kvh, row) * p.splits + split;
      for (var c = lid; c < VD4; c += WORKGROUP_SIZE) {
        var total = vec4<f32>(0.0);
        for (var g = 0u; g < SLICES; g++) {
          total += from_raw(wg_k[g * VD4 + c]);
        }
        part_o[slot * VD4 + c] = total;
      }
      if (lid == 0u) {
        var total = 0.0;
        for (var g = 0u; g < SLICES; g++) {
          total += wg_sum[g];
        }
        part_ml[slot] = vec2<f32>(m[r], total);
      }
    }
    workgroupBarrier();
  }
}
