// The cache geometry every compaction pass reads (written by kernel.ts's encodeParams, same order).
struct Params {
  batch: u32,
  // Keep-mask row length and the longest sequence the table holds (seqK).
  max_len: u32,
  // Block-table columns.
  max_blocks: u32,
  kv_heads: u32,
  block_size: u32,
  // 1024-token scan chunks per sequence: ceil(max_len / 1024).
  chunks: u32,
  // Percent of each sequence the score policy evicts (its keep-mask selection reads it).
  evict: u32,
  _pad1: u32,
}

const NO_BLOCK: u32 = 0xffffffffu;

fn blocks_for(tokens: u32, block_size: u32) -> u32 {
  return (tokens + block_size - 1u) / block_size;
}
