// Pass 2: per sequence, the chunk sums become each chunk's first destination slot (exclusive scan,
// SCAN_WG chunks at a time with a carry), the total is the new length, and the block table keeps
// the blocks the survivors fill. One workgroup per sequence; a sequence has few chunks (128 at 128K).
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> block_table: array<u32>;
@group(0) @binding(2) var<storage, read_write> chunk_sums: array<u32>;
@group(0) @binding(3) var<storage, read_write> new_lens: array<u32>;
@group(0) @binding(4) var<storage, read_write> new_table: array<u32>;

@compute @workgroup_size(SCAN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x + wid.y * groups.x;
  if (b >= p.batch) {
    return;
  }
  var carry = 0u;
  for (var base = 0u; base < p.chunks; base += SCAN_WG) {
    let c = base + lid;
    var count = 0u;
    if (c < p.chunks) {
      count = chunk_sums[b * p.chunks + c];
    }
    let sums = scan_exclusive(lid, count);
    if (c < p.chunks) {
      chunk_sums[b * p.chunks + c] = carry + sums.x;
    }
    carry += sums.y;
  }
  if (lid == 0u) {
    new_lens[b] = carry;
  }
  let kept = blocks_for(carry, p.block_size);
  for (var j = lid; j < p.max_blocks; j += SCAN_WG) {
    let at = b * p.max_blocks + j;
    new_table[at] = select(NO_BLOCK, block_table[at], j < kept);
  }
}
