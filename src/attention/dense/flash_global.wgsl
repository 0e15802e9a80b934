// Global memory for the flash kernels (flash/flash.wgsl, both variants, and
// flash-mma/flash_mma.wgsl), composed after params.wgsl: the staging of K/V tiles. The including shader defines qkv_t (the vector type of Q, K and V in
// memory: vec4<f32>, or vec4<u32> of eight packed f16), HEAD_DIM, BR, BC, DV (vectors per row),
// STAGE and WORKGROUP_SIZE and binds q, k, v, o and p; the f16 flag (src/wgsl/conditional.ts)
// says which zero fits qkv_t.

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
