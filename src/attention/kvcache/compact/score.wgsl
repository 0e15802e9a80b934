// Score policy, pass A: each token's importance, the sum over kv heads of the L2 norm of its key
// (the mean's ranking; no division, which WGSL does not round exactly), read through the block
// table. One invocation per token, SCAN_WG tokens per workgroup over a (sequence, tile) grid; 0 past
// a sequence's length. The summation order is fixed and mirrored by policy.ts keyNormScores in f32:
// per head sq = ((x₀² + x₁²) + x₂²) + …, norm = sqrt(sq), total = (norm₀ + norm₁) + …. The pool is
// read as 32-bit words: f32 elements by bitcast, f16 pairs decoded exactly by integer ops (no
// shader-f16, no dependence on how a device treats f16 subnormals).
const F16: bool = false;
const HEAD_DIM: u32 = 128u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> block_table: array<u32>;
@group(0) @binding(2) var<storage, read> context_lens: array<u32>;
@group(0) @binding(3) var<storage, read> k_pool: array<u32>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;

// IEEE half bits (low 16 of h) → f32, exact for every value (subnormals are m·2⁻²⁴, normal in f32).
fn half_to_f32(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) {
    return bitcast<f32>(sign | bitcast<u32>(f32(m) * 5.9604644775390625e-8));
  }
  if (e == 31u) {
    return bitcast<f32>(sign | 0x7f800000u | (m << 13u));
  }
  return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}

@compute @workgroup_size(SCAN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tiles = (p.max_len + SCAN_WG - 1u) / SCAN_WG;
  let item = wid.x + wid.y * groups.x;
  if (item >= p.batch * tiles) {
    return;
  }
  let b = item / tiles;
  let t = (item % tiles) * SCAN_WG + lid;
  if (t >= p.max_len) {
    return;
  }
  var total = 0.0;
  if (t < context_lens[b]) {
    let block = block_table[b * p.max_blocks + t / p.block_size];
    for (var h = 0u; h < p.kv_heads; h++) {
      let row = (block * p.kv_heads + h) * p.block_size + t % p.block_size;
      var sq = 0.0;
      if (F16) {
        let base = row * (HEAD_DIM / 2u);
        for (var w = 0u; w < HEAD_DIM / 2u; w++) {
          let word = k_pool[base + w];
          let lo = half_to_f32(word & 0xffffu);
          let hi = half_to_f32(word >> 16u);
          sq = sq + lo * lo;
          sq = sq + hi * hi;
        }
      } else {
        let base = row * HEAD_DIM;
        for (var c = 0u; c < HEAD_DIM; c++) {
          let x = bitcast<f32>(k_pool[base + c]);
          sq = sq + x * x;
        }
      }
      total = total + sqrt(sq);
    }
  }
  scores[b * p.max_len + t] = total;
}
