import { AttentionInputError } from '../../errors.js';
import type { HostTensors, TensorSpec } from '../types.js';
import { type KvCacheShape, maxBlocksPerSeq, numBlocks } from './shape.js';

const ARRAY_OF = { f32: Float32Array, f16: Uint16Array, u32: Uint32Array, i32: Int32Array } as const;

/**
 * Types and sizes of every tensor the kernel reads. Float contents are not checked for finiteness:
 * compaction copies 32-bit words, so any bit pattern (NaN included) arrives unchanged.
 */
export function validateSizes(specs: readonly TensorSpec[], inputs: HostTensors): void {
  for (const spec of specs) {
    if (spec.role === 'output') continue;
    const data = inputs[spec.name];
    const want = ARRAY_OF[spec.type];
    if (!(data instanceof want)) {
      throw new AttentionInputError(`${spec.name} must be a ${want.name}, got ${data === undefined ? 'nothing' : data.constructor.name}`);
    }
    const count = spec.dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new AttentionInputError(`${spec.name} has ${data.length} elements but the shape needs ${spec.layout} = ${count}`);
  }
}

/**
 * The indices against what they index, before any dispatch: each length within the table, each
 * block a sequence holds inside the pool and held by one sequence only (compaction writes in place,
 * so two owners of a block would overwrite each other), each keep flag 0 or 1.
 */
export function validateIndices(s: KvCacheShape, blockTable: Uint32Array, contextLens: Uint32Array, keep: Uint32Array): void {
  const blocks = maxBlocksPerSeq(s);
  const pool = numBlocks(s);
  const owner = new Int32Array(pool).fill(-1);
  for (let b = 0; b < s.batch; b++) {
    const len = contextLens[b]!;
    if (len > s.seqK) {
      throw new AttentionInputError(
        `contextLens[${b}] = ${len} is past the block table, which holds ${s.seqK} tokens per sequence (${blocks} blocks of ${s.blockSize}, seqK ${s.seqK})`,
      );
    }
    for (let j = 0; j < Math.ceil(len / s.blockSize); j++) {
      const at = b * blocks + j;
      const block = blockTable[at]!;
      if (block >= pool) throw new AttentionInputError(`blockTable[${b}][${j}] = ${block} names a block outside the pool of ${pool} blocks`);
      if (owner[block] !== -1) {
        const other = owner[block]!;
        throw new AttentionInputError(
          `blockTable[${b}][${j}] = ${block} is also blockTable[${Math.floor(other / blocks)}][${other % blocks}]: in-place compaction needs each block held once`,
        );
      }
      owner[block] = at;
    }
  }
  for (let i = 0; i < keep.length; i++) {
    if (keep[i]! > 1) throw new AttentionInputError(`keep[${Math.floor(i / s.seqK)}][${i % s.seqK}] = ${keep[i]} must be 0 or 1`);
  }
}
