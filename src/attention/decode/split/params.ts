// The Params block of params.wgsl, shared by every split-KV decode kernel (decode-split, mla-split)
// and their merge pass: written here in the order the struct declares.

export const PARAMS_BYTES = 48;

/** The fields of params.wgsl's Params; see there for what each holds. */
export interface SplitParams {
  batch: number;
  heads: number;
  kvHeads: number;
  seqQ: number;
  seqK: number;
  /** Query heads per kv head. */
  group: number;
  /** Query rows of one kv head: group · seqQ. */
  rows: number;
  splits: number;
  rowTiles: number;
  /** Block-table slots per sequence (paged; 0 where there is no block table). */
  tableSlots: number;
  scale: number;
  mergeGridX: number;
}

export function encodeSplitParams(p: SplitParams): ArrayBuffer {
  const buffer = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);
  u32.set([p.batch, p.heads, p.kvHeads, p.seqQ, p.seqK, p.group, p.rows, p.splits, p.rowTiles, p.tableSlots]);
  f32[10] = p.scale * Math.LOG2E;
  u32[11] = p.mergeGridX;
  return buffer;
}
