// Step 2's sum over the LANES invocations of a key through workgroup memory (devices without
// subgroups, or keys wider than a subgroup): one write, a barrier, LANES reads; and step 3's tile
// max through one atomicMax per key and row.
var<workgroup> wg_lane_scores: array<f32, ROWS * WORKGROUP_SIZE>;

fn key_scores(part: array<f32, ROWS>, lid: u32) -> array<f32, ROWS> {
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    wg_lane_scores[r * WORKGROUP_SIZE + lid] = part[r];
  }
  workgroupBarrier();
  let first = lid - lid % LANES;
  var x: array<f32, ROWS>;
  // @unroll
  for (var r = 0u; r < ROWS; r++) {
    var sum = 0.0;
    for (var g = 0u; g < LANES; g++) {
      sum += wg_lane_scores[r * WORKGROUP_SIZE + first + g];
    }
    x[r] = sum;
  }
  return x;
}

fn offer_max(r: u32, score: f32, lane: u32) {
  if (lane == 0u) {
    atomicMax(&wg_max_key[r], order_key(score));
  }
}
