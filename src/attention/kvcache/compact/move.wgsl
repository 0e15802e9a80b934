// Passes 5 and 6: the survivor rows. One workgroup per (sequence, destination block, kv head)
// copies that block's rows, K and V, as Word (vec4<u32> where rows allow) loads and stores; a row
// whose token keeps its slot is skipped. GATHER: pool (source slot) → scratch (destination slot).
// Otherwise: scratch → pool, same slot. The scratch is laid out like the pool, so the copy back is
// a straight, coalesced copy, and it cannot overwrite a survivor not yet read: every read of the
// pool happened in the gather dispatch before it.
alias Word = vec4<u32>;

const WG: u32 = 64u;
const GATHER: bool = true;
const BLOCK_SIZE: u32 = 16u;
// Words per row: headDim · element bytes / sizeof(Word).
const ROW_WORDS: u32 = 16u;
const UNMOVED: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src_of: array<u32>;
@group(0) @binding(2) var<storage, read> block_table: array<u32>;
@group(0) @binding(3) var<storage, read> new_lens: array<u32>;
@group(0) @binding(4) var<storage, read> k_from: array<Word>;
@group(0) @binding(5) var<storage, read> v_from: array<Word>;
@group(0) @binding(6) var<storage, read_write> k_to: array<Word>;
@group(0) @binding(7) var<storage, read_write> v_to: array<Word>;

// Row each destination slot of this block reads, or UNMOVED.
var<workgroup> from_row: array<u32, BLOCK_SIZE>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let item = wid.x + wid.y * groups.x;
  if (item >= p.batch * p.max_blocks * p.kv_heads) {
    return;
  }
  let h = item % p.kv_heads;
  let b = item / p.kv_heads / p.max_blocks;
  let j = item / p.kv_heads % p.max_blocks;
  let new_len = new_lens[b];
  let first = j * BLOCK_SIZE;
  // Blocks past the new length receive nothing (they are freed, or the sequence's unused tail).
  if (first >= new_len) {
    return;
  }
  let rows = min(BLOCK_SIZE, new_len - first);
  let dst_base = (block_table[b * p.max_blocks + j] * p.kv_heads + h) * BLOCK_SIZE;
  for (var r = lid; r < BLOCK_SIZE; r += WG) {
    var row = UNMOVED;
    let d = first + r;
    if (r < rows) {
      let t = src_of[b * p.max_len + d];
      if (t != d) {
        if (GATHER) {
          row = (block_table[b * p.max_blocks + t / BLOCK_SIZE] * p.kv_heads + h) * BLOCK_SIZE + t % BLOCK_SIZE;
        } else {
          row = dst_base + r;
        }
      }
    }
    from_row[r] = row;
  }
  workgroupBarrier();
  for (var i = lid; i < rows * ROW_WORDS; i += WG) {
    let r = i / ROW_WORDS;
    let src = from_row[r];
    if (src != UNMOVED) {
      let c = i % ROW_WORDS;
      let dst_word = (dst_base + r) * ROW_WORDS + c;
      let src_word = src * ROW_WORDS + c;
      k_to[dst_word] = k_from[src_word];
      v_to[dst_word] = v_from[src_word];
    }
  }
}
