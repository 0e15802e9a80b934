// Reduce-scatter of partial scores for flash.wgsl with subgroup shuffles. Each lane of a
// row group holds, for each of its TM rows, partial dot products with ROW_THREADS keys (over its
// head-dim slice); it ends with the full scores of key g of the chunk. Recursive halving: at each
// step a lane keeps the half of the keys whose index bit matches its own lane bit, and adds the
// partner's partials of that half, so the step costs half the values in shuffles instead of all of
// them. Composed in under the same condition as row_reduce_subgroup.wgsl.

fn reduce_scatter_rows(part: array<f32, PART>, lid: u32) -> array<f32, TM> {
  var x = part;
  let g = lid % ROW_THREADS;
  // @unroll
  for (var step = 0u; step < SCATTER_STEPS; step++) {
    // Function-scope consts, so that every index below stays a constant (registers, not memory).
    const half = ROW_THREADS >> (step + 1u);
    let upper = (g & half) != 0u;
    // @unroll
    for (var m = 0u; m < TM; m++) {
      // @unroll
      for (var kk = 0u; kk < SCATTER_HALF; kk++) {
        if (kk < half) {
          let lo = x[m * ROW_THREADS + kk];
          let hi = x[m * ROW_THREADS + kk + half];
          x[m * ROW_THREADS + kk] = select(lo, hi, upper) + subgroupShuffleXor(select(hi, lo, upper), half);
        }
      }
    }
  }
  var out: array<f32, TM>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    out[m] = x[m * ROW_THREADS];
  }
  return out;
}
