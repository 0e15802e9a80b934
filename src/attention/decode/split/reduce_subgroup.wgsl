// Step 2's sum over the LANES invocations of a key, with a subgroup butterfly (log2 LANES shuffles
// per row, no workgroup memory, no barrier), and step 3's tile max through one atomicMax per
// subgroup and row. Composed in only when LANES ≤ the adapter's minimum subgroup size, so a key's
// lanes (an aligned run of local_invocation_index) never straddle two subgroups.
enable subgroups;

fn key_scores(part: array<f32, ROWS>, lid: u32) -> array<f32, ROWS> {
  var x = part;
  // @unroll
  for (var step = 0u; step < LANE_STEPS; step++) {
    // @unroll
    for (var r = 0u; r < ROWS; r++) {
      x[r] += subgroupShuffleXor(x[r], 1u << step);
    }
  }
  return x;
}

fn offer_max(r: u32, score: f32, lane: u32) {
  let top = subgroupMax(score);
  if (subgroupElect()) {
    atomicMax(&wg_max_key[r], order_key(top));
  }
}
