// Pass 3: each survivor's destination = its chunk's first slot + its rank in the chunk; the map is
// stored inverted (src_of[destination] = source position) so the copies can be organized by
// destination block, each written by exactly one workgroup.
const ITEMS: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> keep: array<u32>;
@group(0) @binding(2) var<storage, read> context_lens: array<u32>;
@group(0) @binding(3) var<storage, read> chunk_offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> src_of: array<u32>;

@compute @workgroup_size(SCAN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let item = wid.x + wid.y * groups.x;
  if (item >= p.batch * p.chunks) {
    return;
  }
  let b = item / p.chunks;
  let len = context_lens[b];
  let first = (item % p.chunks) * SCAN_WG * ITEMS + lid * ITEMS;
  var flags: array<u32, ITEMS>;
  var count = 0u;
  for (var i = 0u; i < ITEMS; i++) {
    let t = first + i;
    flags[i] = 0u;
    if (t < len) {
      flags[i] = keep[b * p.max_len + t];
    }
    count += flags[i];
  }
  let sums = scan_exclusive(lid, count);
  var dst = chunk_offsets[item] + sums.x;
  for (var i = 0u; i < ITEMS; i++) {
    if (flags[i] != 0u) {
      src_of[b * p.max_len + dst] = first + i;
      dst += 1u;
    }
  }
}
