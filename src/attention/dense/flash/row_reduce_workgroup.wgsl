// Row reductions for flash.wgsl through workgroup memory: works on every device. Each
// lane writes its partial value for each of its rows, one barrier, then every lane reads the
// ROW_THREADS partials of its rows. No trailing barrier: the next write to row_partials is
// separated from these reads by the barriers of the tile loop.

var<workgroup> row_partials: array<f32, BR * ROW_THREADS>;

fn reduce_max_rows(part: array<f32, TM>, lid: u32) -> array<f32, TM> {
  if (ROW_THREADS == 1u) {
    return part;
  }
  let rg = lid / ROW_THREADS;
  let g = lid % ROW_THREADS;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    row_partials[(m * ROW_GROUPS + rg) * ROW_THREADS + g] = part[m];
  }
  workgroupBarrier();
  var out: array<f32, TM>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let base = (m * ROW_GROUPS + rg) * ROW_THREADS;
    var x = row_partials[base];
    for (var i = 1u; i < ROW_THREADS; i++) {
      x = max(x, row_partials[base + i]);
    }
    out[m] = x;
  }
  return out;
}

fn reduce_sum_rows(part: array<f32, TM>, lid: u32) -> array<f32, TM> {
  if (ROW_THREADS == 1u) {
    return part;
  }
  let rg = lid / ROW_THREADS;
  let g = lid % ROW_THREADS;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    row_partials[(m * ROW_GROUPS + rg) * ROW_THREADS + g] = part[m];
  }
  workgroupBarrier();
  var out: array<f32, TM>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    let base = (m * ROW_GROUPS + rg) * ROW_THREADS;
    var x = 0.0;
    for (var i = 0u; i < ROW_THREADS; i++) {
      x += row_partials[base + i];
    }
    out[m] = x;
  }
  return out;
}
