// Global memory for the flash kernels (flash/flash.wgsl, both variants, and
// flash-mma/flash_mma.wgsl), composed after params.wgsl: where a workgroup's rows start, and the
// staging of K/V tiles. The including shader defines qkv_t (the vector type of Q, K and V in
// memory: vec4<f32>, or vec4<u32> of eight packed f16), HEAD_DIM, BR, BC, DV (vectors per row),
// STAGE and WORKGROUP_SIZE and binds q, k, v, o and p; the f16 flag (src/wgsl/conditional.ts)
// says which zero fits qkv_t.

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

// Reads this invocation's share of rows [row0, row0 + BC) of K or V (zeros past seq_k) into
// registers: consecutive invocations take consecutive vectors of a row (coalesced loads), and
// every invocation runs the same iterations, so the loads issue back to back.
fn fetch_kv_tile(src_is_k: bool, base: u32, row0: u32, lid: u32) -> array<qkv_t, STAGE> {
  var staged: array<qkv_t, STAGE>;
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    // @if f16
    var val = vec4<u32>(0u);
    // @else
    var val = vec4<f32>(0.0);
    // @endif
    if ((BC * DV % WORKGROUP_SIZE == 0u || idx < BC * DV) && row0 + idx / DV < p.seq_k) {
      let at = base + row0 * DV + idx;
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
