// Row reductions for flash.wgsl with subgroup shuffles: a butterfly over the
// ROW_THREADS lanes of a row group, no workgroup memory and no barrier. The harness composes this
// in only when ROW_THREADS <= the adapter's minimum subgroup size, so a row group never straddles
// two subgroups; it relies on subgroups being aligned runs of local_invocation_index, which holds on
// every implementation we know of and is checked by the GPU tests against the reference.
enable subgroups;

fn reduce_max_rows(part: array<f32, TM>, lid: u32) -> array<f32, TM> {
  var x = part;
  for (var mask = ROW_THREADS / 2u; mask > 0u; mask = mask / 2u) {
    // @unroll
  for (var m = 0u; m < TM; m++) {
      x[m] = max(x[m], subgroupShuffleXor(x[m], mask));
    }
  }
  return x;
}

fn reduce_sum_rows(part: array<f32, TM>, lid: u32) -> array<f32, TM> {
  var x = part;
  for (var mask = ROW_THREADS / 2u; mask > 0u; mask = mask / 2u) {
    // @unroll
  for (var m = 0u; m < TM; m++) {
      x[m] += subgroupShuffleXor(x[m], mask);
    }
  }
  return x;
}
