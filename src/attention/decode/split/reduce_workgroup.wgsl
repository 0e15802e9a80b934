// Sums each score over the LANES invocations of a key group through workgroup memory (devices
// without subgroups, or key groups wider than a subgroup): one write, a barrier, LANES reads.
var<workgroup> score_partials: array<f32, SCORES * WORKGROUP_SIZE>;

fn reduce_scores(part: array<f32, SCORES>, lid: u32) -> array<f32, SCORES> {
  // @unroll
  for (var e = 0u; e < SCORES; e++) {
    score_partials[e * WORKGROUP_SIZE + lid] = part[e];
  }
  workgroupBarrier();
  var x: array<f32, SCORES>;
  let first = lid - lid % LANES;
  // @unroll
  for (var e = 0u; e < SCORES; e++) {
    var sum = 0.0;
    for (var t = 0u; t < LANES; t++) {
      sum += score_partials[e * WORKGROUP_SIZE + first + t];
    }
    x[e] = sum;
  }
  workgroupBarrier();
  return x;
}
