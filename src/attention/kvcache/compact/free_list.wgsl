// Pass 4: the blocks past each sequence's new length go to the free list, sequence by sequence in
// table order (a deterministic list, no atomics). A sequence's offset in the list sums the blocks
// freed by the sequences before it: one workgroup per sequence, each summing with a scan.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> context_lens: array<u32>;
@group(0) @binding(2) var<storage, read> new_lens: array<u32>;
@group(0) @binding(3) var<storage, read> block_table: array<u32>;
@group(0) @binding(4) var<storage, read_write> free_list: array<u32>;
@group(0) @binding(5) var<storage, read_write> free_count: array<u32>;

fn freed_by(b: u32) -> u32 {
  return blocks_for(context_lens[b], p.block_size) - blocks_for(new_lens[b], p.block_size);
}

@compute @workgroup_size(SCAN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x + wid.y * groups.x;
  if (b >= p.batch) {
    return;
  }
  var before = 0u;
  for (var i = lid; i < b; i += SCAN_WG) {
    before += freed_by(i);
  }
  let offset = scan_exclusive(lid, before).y;
  let kept = blocks_for(new_lens[b], p.block_size);
  let held = blocks_for(context_lens[b], p.block_size);
  for (var j = kept + lid; j < held; j += SCAN_WG) {
    free_list[offset + j - kept] = block_table[b * p.max_blocks + j];
  }
  if (b == p.batch - 1u && lid == 0u) {
    free_count[0] = offset + held - kept;
  }
}
