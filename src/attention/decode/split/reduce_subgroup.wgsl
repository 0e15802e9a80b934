// Sums each score over the LANES invocations of a key group with a subgroup butterfly: no
// workgroup memory, no barrier. Composed in only when LANES <= the adapter's minimum subgroup
// size, so a key group (an aligned run of local_invocation_index) never straddles two subgroups.
enable subgroups;

fn reduce_scores(part: array<f32, SCORES>, lid: u32) -> array<f32, SCORES> {
  var x = part;
  for (var mask = LANES / 2u; mask > 0u; mask = mask / 2u) {
    // @unroll
    for (var e = 0u; e < SCORES; e++) {
      x[e] += subgroupShuffleXor(x[e], mask);
    }
  }
  return x;
}
