// MLA absorbed decode, pass 1: workgroup (split · row_tiles + row tile, 0, sequence) streams tokens
// [split · CHUNK, min((split + 1) · CHUNK, len)) of the one shared latent cache once, for ROWS query
// rows (heads × Nq: every head reads the same cache rows, so a row tile shares each read), and
// writes each row's max, sum and unnormalized output to the partials (the decode family's layout,
// merged by its merge.wgsl). Composed with the decode family's params.wgsl and kv_f32.wgsl or
// kv_f16.wgsl (K = the whole cache row [c_kv, k_pe] is bound as k_cache; V = its first KV_LORA
// elements is read from the same staged tile, so v_cache is never used).
//
// Per tile of TILE tokens:
//  1. the tile's cache rows go to workgroup memory (coalesced 16-byte loads, rows padded to an odd
//     number of vectors so that invocations on consecutive tokens read different banks);
//  2. scores: invocation (key, row slot, lane) takes ROWS_PER rows of one token and every LANES-th
//     vector of the row; each K vector is widened once and used for all its rows (Q, pre-scaled
//     by scale·log2(e), in padded workgroup rows); the partial dot products go to workgroup memory;
//  3. one invocation per row sums its lanes, masks tokens past the chunk or the row's causal end,
//     takes the tile max, the rescale factor and P = 2^(s − m), and keeps the row's max and sum;
//  4. P·V: invocation (column vector of the latent, slice) rescales its ROWS accumulators and adds
//     P·V over its slice of the tile's tokens, reading V from the staged rows.
// At the end the slices' accumulators meet in workgroup memory, one row at a time.

const KV_LORA: u32 = 512u;
const ROPE_DIM: u32 = 64u;
const WORKGROUP_SIZE: u32 = 128u;
const ROWS: u32 = 16u;
const TILE: u32 = 8u;
const CHUNK: u32 = 1024u;
// 16-byte vectors per cache row (K) and per latent (V).
const ROW_VECTORS: u32 = 72u;
const V_VECTORS: u32 = 64u;
// Padded rows of the staged K tile and of Q, in vectors (odd: no bank conflicts across rows).
const K_STRIDE: u32 = 73u;
const Q_STRIDE: u32 = 145u;

const D4: u32 = (KV_LORA + ROPE_DIM) / 4u;
const C4: u32 = KV_LORA / 4u;
// Step 2: TILE invocations per group, one token each; groups split the rows, then the vectors.
const GROUPS: u32 = WORKGROUP_SIZE / TILE;
const ROWS_PER: u32 = max(1u, ROWS / GROUPS);
const ROW_STEP: u32 = ROWS / ROWS_PER;
const LANES: u32 = max(1u, GROUPS / ROWS);
// Step 4: invocations per row (one column vector of the latent each) and token slices.
const SLICES: u32 = WORKGROUP_SIZE / V_VECTORS;
// The K tile's vectors; after the last tile they hold the slices' accumulators.
const K_TILE_VECTORS: u32 = max(TILE * K_STRIDE, SLICES * C4);

@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> context_lens: array<u32>;
@group(0) @binding(5) var<storage, read_write> part_o: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> part_ml: array<vec2<f32>>;

var<workgroup> wg_len: u32;
var<workgroup> wg_q: array<vec4<f32>, ROWS * Q_STRIDE>;
var<workgroup> wg_k: array<KvRaw, K_TILE_VECTORS>;
// Step 2's partial scores [lane][row][token]; step 3 leaves P in lane 0's rows.
var<workgroup> wg_s: array<f32, LANES * ROWS * TILE>;
var<workgroup> wg_alpha: array<f32, ROWS>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row_tile = wid.x % p.row_tiles;
  let split = wid.x / p.row_tiles;
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
  // The tile's query rows, pre-scaled by scale·log2(e); rows past heads × Nq are zero and see no key.
  for (var i = lid; i < ROWS * D4; i += WORKGROUP_SIZE) {
    let row = row_tile * ROWS + i / D4;
    let at = (b * p.rows + min(row, p.rows - 1u)) * D4 + i % D4;
    wg_q[(i / D4) * Q_STRIDE + i % D4] = select(vec4<f32>(0.0), q[at] * p.scale_log2, row < p.rows);
  }
  // Step 3's row (invocation lid < ROWS): its causal end, running max and sum.
  let own_row = row_tile * ROWS + lid;
  let visible = select(0u, len - p.seq_q + own_row % p.seq_q + 1u, lid < ROWS && own_row < p.rows);
  var m = NO_KEY;
  var l = 0.0;
  var acc: array<vec4<f32>, ROWS * HALVES>;
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    // @unroll
    for (var h = 0u; h < HALVES; h++) {
      acc[r * HALVES + h] = vec4<f32>(0.0);
    }
  }

  // Step 2's token, row slot and lane; step 4's column vector and slice.
  let key = lid % TILE;
  let row_slot = (lid / TILE) % ROW_STEP;
  let lane = lid / TILE / ROW_STEP;
  let column = lid % V_VECTORS;
  let slice = lid / V_VECTORS;

  let tiles = (end - start + TILE - 1u) / TILE;
  for (var n = 0u; n < tiles; n++) {
    let base = start + n * TILE;
    // 1. The tile's rows. Tokens past the chunk re-read its last token (in bounds, finite); their
    // scores are masked.
    for (var i = lid; i < TILE * ROW_VECTORS; i += WORKGROUP_SIZE) {
      let j = min(base + i / ROW_VECTORS, end - 1u);
      wg_k[(i / ROW_VECTORS) * K_STRIDE + i % ROW_VECTORS] = k_cache[(b * p.seq_k + j) * ROW_VECTORS + i % ROW_VECTORS];
    }
    workgroupBarrier();

    // 2. This lane's share of token `key`'s dot products with ROWS_PER rows.
    var part: array<f32, ROWS_PER>;
    // @unroll
    for (var t = 0u; t < ROWS_PER; t++) {
      part[t] = 0.0;
    }
    for (var v = lane; v < ROW_VECTORS; v += LANES) {
      let raw = wg_k[key * K_STRIDE + v];
      // @unroll
      for (var h = 0u; h < HALVES; h++) {
        let kv = kv_part(raw, h);
        // @unroll
        for (var t = 0u; t < ROWS_PER; t++) {
          part[t] += dot(wg_q[(row_slot + t * ROW_STEP) * Q_STRIDE + v * HALVES + h], kv);
        }
      }
    }
    // @unroll
    for (var t = 0u; t < ROWS_PER; t++) {
      wg_s[(lane * ROWS + row_slot + t * ROW_STEP) * TILE + key] = part[t];
    }
    workgroupBarrier();

    // 3. Row lid's scores, tile max, rescale and P (finite stand-ins for −∞: a row that sees none
    // of the tile's tokens keeps m = NO_KEY, gets P = 2^(MASKED − NO_KEY) = 0 and alpha = 1).
    if (lid < ROWS) {
      var top = MASKED;
      for (var j = 0u; j < TILE; j++) {
        var s = 0.0;
        for (var g = 0u; g < LANES; g++) {
          s += wg_s[(g * ROWS + lid) * TILE + j];
        }
        s = select(MASKED, s, base + j < end && base + j < visible);
        wg_s[lid * TILE + j] = s;
        top = max(top, s);
      }
      let m_new = max(m, top);
      let alpha = exp2(m - m_new);
      m = m_new;
      l *= alpha;
      for (var j = 0u; j < TILE; j++) {
        let w = exp2(wg_s[lid * TILE + j] - m_new);
        wg_s[lid * TILE + j] = w;
        l += w;
      }
      wg_alpha[lid] = alpha;
    }
    workgroupBarrier();

    // 4. P·V over this slice's tokens of the tile, V from the staged rows.
    // @unroll
    for (var r = 0u; r < ROWS; r++) {
      let alpha = wg_alpha[r];
      // @unroll
      for (var h = 0u; h < HALVES; h++) {
        acc[r * HALVES + h] *= alpha;
      }
    }
    for (var j = slice; j < TILE; j += SLICES) {
      let raw = wg_k[j * K_STRIDE + column];
      // @unroll
      for (var h = 0u; h < HALVES; h++) {
        let value = kv_part(raw, h);
        // @unroll
        for (var r = 0u; r < ROWS; r++) {
          acc[r * HALVES + h] += wg_s[r * TILE + j] * value;
        }
      }
    }
    // The next tile overwrites the staged rows and P.
    workgroupBarrier();
  }

  // Sum the slices' accumulators (they share each row's max), one row at a time, in the K tile's
  // memory; row r's invocation writes its max and sum.
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    // @unroll
    for (var h = 0u; h < HALVES; h++) {
      wg_k[slice * C4 + column * HALVES + h] = to_raw(acc[r * HALVES + h]);
    }
    workgroupBarrier();
    let row = row_tile * ROWS + r;
    if (row < p.rows) {
      let slot = (b * p.rows + row) * p.splits + split;
      for (var c = lid; c < C4; c += WORKGROUP_SIZE) {
        var total = vec4<f32>(0.0);
        for (var g = 0u; g < SLICES; g++) {
          total += from_raw(wg_k[g * C4 + c]);
        }
        part_o[slot * C4 + c] = total;
      }
      if (lid == r) {
        part_ml[slot] = vec2<f32>(m, l);
      }
    }
    workgroupBarrier();
  }
}
