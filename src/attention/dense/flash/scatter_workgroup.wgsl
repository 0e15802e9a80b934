// Reduce-scatter of partial scores for flash.wgsl through workgroup memory, for devices
// without subgroups (see scatter_subgroup.wgsl for what it computes): every lane writes its
// partials, and lane g sums the ROW_THREADS partials of key g of its rows. Two barriers per call:
// the first keeps this chunk's writes from overtaking the previous chunk's reads.

var<workgroup> scatter_partials: array<f32, WORKGROUP_SIZE * PART>;

fn reduce_scatter_rows(part: array<f32, PART>, lid: u32) -> array<f32, TM> {
  var out: array<f32, TM>;
  if (ROW_THREADS == 1u) {
    // @unroll
    for (var m = 0u; m < TM; m++) {
      out[m] = part[m];
    }
    return out;
  }
  let rg = lid / ROW_THREADS;
  let g = lid % ROW_THREADS;
  workgroupBarrier();
  // @unroll
  for (var i = 0u; i < PART; i++) {
    scatter_partials[lid * PART + i] = part[i];
  }
  workgroupBarrier();
  // @unroll
  for (var m = 0u; m < TM; m++) {
    var x = 0.0;
    for (var lane = 0u; lane < ROW_THREADS; lane++) {
      x += scatter_partials[(rg * ROW_THREADS + lane) * PART + m * ROW_THREADS + g];
    }
    out[m] = x;
  }
  return out;
}
