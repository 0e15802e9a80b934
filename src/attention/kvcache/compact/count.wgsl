// Pass 1 of the survivor scan: survivors in each 1024-token chunk of each sequence, one workgroup
// per (sequence, chunk) so that a single long sequence still fills the GPU.
const ITEMS: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> keep: array<u32>;
@group(0) @binding(2) var<storage, read> context_lens: array<u32>;
@group(0) @binding(3) var<storage, read_write> chunk_sums: array<u32>;

@compute @workgroup_size(SCAN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let item = wid.x + wid.y * groups.x;
  if (item >= p.batch * p.chunks) {
    return;
  }
  let b = item / p.chunks;
  let len = context_lens[b];
  let first = (item % p.chunks) * SCAN_WG * ITEMS + lid * ITEMS;
  var count = 0u;
  for (var i = 0u; i < ITEMS; i++) {
    let t = first + i;
    if (t < len) {
      count += keep[b * p.max_len + t];
    }
  }
  let sums = scan_exclusive(lid, count);
  if (lid == 0u) {
    chunk_sums[item] = sums.y;
  }
}
