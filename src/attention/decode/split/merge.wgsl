// Split-KV decode, pass 2: one workgroup per output row merges the partials of the splits that
// hold keys of its sequence (later splits never ran and their slots are never read) by
// log-sum-exp: O = Σ 2^(m_s − M) · acc_s / Σ 2^(m_s − M) · l_s with M the largest m_s. Invocation
// (slice, column) sums every SLICES-th split of one 4-wide column.

const HEAD_DIM: u32 = 128u;
const CHUNK: u32 = 256u;
const SLICES: u32 = 4u;
const D4: u32 = HEAD_DIM / 4u;
const THREADS: u32 = SLICES * D4;

@group(0) @binding(1) var<storage, read> context_lens: array<u32>;
@group(0) @binding(2) var<storage, read> part_o: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> part_ml: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> wg_stat: array<f32, THREADS>;
var<workgroup> wg_out: array<vec4<f32>, THREADS>;

@compute @workgroup_size(THREADS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * p.merge_grid_x;
  if (row >= p.batch * p.heads * p.seq_q) {
    return;
  }
  let b = row / (p.heads * p.seq_q);
  let used = (context_lens[b] + CHUNK - 1u) / CHUNK;
  let first = row * p.splits;

  var mx = NO_KEY;
  for (var s = lid; s < used; s += THREADS) {
    mx = max(mx, part_ml[first + s].x);
  }
  wg_stat[lid] = mx;
  workgroupBarrier();
  var top = NO_KEY;
  for (var t = 0u; t < THREADS; t++) {
    top = max(top, wg_stat[t]);
  }
  workgroupBarrier();
  var sum = 0.0;
  for (var s = lid; s < used; s += THREADS) {
    let ml = part_ml[first + s];
    sum += exp2(ml.x - top) * ml.y;
  }
  wg_stat[lid] = sum;
  workgroupBarrier();
  var total = 0.0;
  for (var t = 0u; t < THREADS; t++) {
    total += wg_stat[t];
  }

  let column = lid % D4;
  let slice = lid / D4;
  var out = vec4<f32>(0.0);
  for (var s = slice; s < used; s += SLICES) {
    out += exp2(part_ml[first + s].x - top) * part_o[(first + s) * D4 + column];
  }
  wg_out[lid] = out;
  workgroupBarrier();
  if (slice == 0u) {
    var result = out;
    for (var t = 1u; t < SLICES; t++) {
      result += wg_out[t * D4 + column];
    }
    o[row * D4 + column] = result / total;
  }
}
