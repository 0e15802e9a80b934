// Global-to-register staging of K/V tiles for the f16 flash kernels (flash_attention_f16.wgsl,
// flash_attention_mma.wgsl), composed after params.wgsl. Reads this invocation's share of rows
// [row0, row0 + BC) of K or V (packed f16, D8 vec4<u32> per row; zeros past seq_k): consecutive
// invocations take consecutive vec4s of a row (coalesced loads), and every invocation runs the same
// iterations, so the loads issue back to back. The including shader defines BC, D8, STAGE and
// WORKGROUP_SIZE and binds k, v and p.

fn fetch_kv_tile(src_is_k: bool, base: u32, row0: u32, lid: u32) -> array<vec4<u32>, STAGE> {
  var staged: array<vec4<u32>, STAGE>;
  // @unroll
  for (var it = 0u; it < STAGE; it++) {
    let idx = it * WORKGROUP_SIZE + lid;
    var val = vec4<u32>(0u);
    if ((BC * D8 % WORKGROUP_SIZE == 0u || idx < BC * D8) && row0 + idx / D8 < p.seq_k) {
      let at = base + row0 * D8 + idx;
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
