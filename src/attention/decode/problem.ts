import { AttentionInputError } from '../../errors.js';
import { createRng } from '../../rng.js';
import { validateFloatTensors } from '../dense/problem.js';
import type { HostTensor, Problem, RawShape, ShapeField, TensorSpec } from '../types.js';
import {
  BATCH_FIELD,
  GARBAGE,
  KV_TYPE_FIELD,
  LENGTHS_FIELD,
  QUERY_ROWS_FIELD,
  checkContextLength,
  contextLengthField,
  referenceOutput,
  refuseHalfNonFinite,
  resolveStepShape,
  storeKv,
} from './context.js';
import { decodeReferenceRows, referenceDecode } from './reference.js';
import {
  BLOCK_SIZES,
  type DecodeShape,
  KV_ELEMENT_BYTES,
  blocksPerSequence,
  checkConsistency,
  contextLengths,
  decodeLabel,
  kvDims,
  poolBlocks,
  visiblePairsPerHead,
} from './shape.js';

export { GARBAGE } from './context.js';

/** Unused block-table slots hold this, far outside any pool: a kernel that reads one faults or shows garbage. */
export const UNUSED_SLOT = 0xffffffff;

// Batch, seq, lengths, seq-q and kv-type are every decode step's (context.ts, shared with mla).
export const DECODE_FIELDS: readonly ShapeField[] = [
  BATCH_FIELD,
  { key: 'heads', flag: 'heads', url: 'h', label: 'Heads', help: 'Query heads per sequence.', kind: 'int', min: 1, max: 256, default: 32 },
  {
    key: 'kvHeads',
    flag: 'kv-heads',
    url: 'kvh',
    label: 'KV heads',
    help: 'Key/value heads of the cache; must divide Heads.',
    kind: 'int',
    min: 1,
    max: 256,
    default: 8,
  },
  {
    key: 'headDim',
    flag: 'dim',
    url: 'd',
    label: 'Head dim',
    help: 'd: features per head; a K/V row must be whole 16-byte vectors (a multiple of 4 in f32, 8 in f16).',
    kind: 'int',
    min: 1,
    max: 1024,
    default: 128,
  },
  contextLengthField('Keys'),
  LENGTHS_FIELD,
  QUERY_ROWS_FIELD,
  KV_TYPE_FIELD,
  {
    key: 'layout',
    flag: 'layout',
    url: 'layout',
    label: 'Cache layout',
    help: 'contiguous: [batch, kvHeads, n, d]; paged: a pool of blocks [blocks, kvHeads, blockSize, d] read through a per-sequence block table.',
    kind: 'choice',
    choices: ['contiguous', 'paged'],
    default: 'contiguous',
  },
  {
    key: 'blockSize',
    flag: 'block',
    url: 'bs',
    label: 'Block size',
    help: `Keys per cache block of the paged layout (${BLOCK_SIZES.join(', ')}).`,
    kind: 'int',
    min: 8,
    max: 64,
    default: 16,
  },
];

export const decodeProblem: Problem<DecodeShape> = {
  family: 'decode',
  title: 'Decode over a KV cache',
  description:
    'One decode step (Nq ≤ 16 query rows per sequence) against a contiguous or paged f32/f16 KV cache, grouped-query heads, per-sequence context lengths.',
  fields: DECODE_FIELDS,
  axis: 'seqK',

  resolve(raw: RawShape) {
    const shape = resolveStepShape<DecodeShape>(DECODE_FIELDS, raw, (values) => 1 / Math.sqrt(values.headDim));
    checkConsistency(shape);
    return shape;
  },

  label: decodeLabel,

  tensors(s) {
    const kv = s.layout === 'paged' ? 'blocks·kvHeads·blockSize·headDim' : 'batch·kvHeads·seqK·headDim';
    const specs: TensorSpec[] = [
      { name: 'q', role: 'input', type: 'f32', dims: [s.batch, s.heads, s.seqQ, s.headDim], layout: 'batch·heads·seqQ·headDim' },
      { name: 'k', role: 'input', type: s.kvType, dims: kvDims(s), layout: kv },
      { name: 'v', role: 'input', type: s.kvType, dims: kvDims(s), layout: kv },
      { name: 'contextLens', role: 'index', type: 'u32', dims: [s.batch], layout: 'batch' },
    ];
    if (s.layout === 'paged') {
      specs.push({ name: 'blockTable', role: 'index', type: 'u32', dims: [s.batch, blocksPerSequence(s)], layout: 'batch·maxBlocksPerSeq' });
    }
    specs.push({ name: 'o', role: 'output', type: 'f32', dims: [s.batch, s.heads, s.seqQ, s.headDim], layout: 'batch·heads·seqQ·headDim' });
    return specs;
  },

  inputs(s, seed) {
    const rng = createRng(seed);
    const uniform = () => rng() * 2 - 1;
    const d = s.headDim;
    const q = new Float32Array(s.batch * s.heads * s.seqQ * d).map(uniform);
    const lens = Uint32Array.from(contextLengths(s));
    const rowCount = kvDims(s).reduce((a, b) => a * b, 1) / d;
    // Every slot starts as garbage; the keys inside each context are then overwritten with data.
    const k = new Float32Array(rowCount * d).map((_, i) => (i & 1 ? GARBAGE : -GARBAGE));
    const v = new Float32Array(rowCount * d).map((_, i) => (i & 1 ? -GARBAGE : GARBAGE));
    let table: Uint32Array | undefined;
    if (s.layout === 'paged') {
      const slots = blocksPerSequence(s);
      table = new Uint32Array(s.batch * slots).fill(UNUSED_SLOT);
      const order = shuffled(poolBlocks(s), rng);
      let next = 0;
      for (let b = 0; b < s.batch; b++) for (let n = 0; n < Math.ceil(lens[b]! / s.blockSize); n++) table[b * slots + n] = order[next++]!;
    }
    for (let b = 0; b < s.batch; b++)
      for (let kvh = 0; kvh < s.kvHeads; kvh++)
        for (let j = 0; j < lens[b]!; j++) {
          const at = rowOffset(s, table, b, kvh, j);
          for (let c = 0; c < d; c++) {
            k[at + c] = uniform();
            v[at + c] = uniform();
          }
        }
    const out: Record<string, HostTensor> = { q, k: storeKv(k, s.kvType), v: storeKv(v, s.kvType), contextLens: lens };
    if (table) out.blockTable = table;
    return out;
  },

  validate(s, inputs) {
    validateFloatTensors(decodeProblem, s, inputs);
    for (const name of ['k', 'v']) refuseHalfNonFinite(name, inputs[name]);
    const lens = inputs.contextLens as Uint32Array;
    const table = inputs.blockTable as Uint32Array | undefined;
    const slots = blocksPerSequence(s);
    const pool = poolBlocks(s);
    for (let b = 0; b < s.batch; b++) {
      const n = lens[b]!;
      if (s.layout === 'paged' && n > slots * s.blockSize) {
        throw new AttentionInputError(
          `contextLens[${b}] = ${n} is past the block table's capacity of ${slots} blocks × ${s.blockSize} = ${slots * s.blockSize} keys`,
        );
      }
      checkContextLength(s, b, n);
      if (!table) continue;
      for (let n0 = 0; n0 < Math.ceil(n / s.blockSize); n0++) {
        const block = table[b * slots + n0]!;
        if (block >= pool) throw new AttentionInputError(`blockTable[${b}][${n0}] = ${block} is outside the pool of ${pool} blocks`);
      }
    }
  },

  reference(s, inputs, budget) {
    const rows = decodeReferenceRows(s, inputs.contextLens as Uint32Array, budget);
    const values = referenceDecode(s, inputs, rows);
    return referenceOutput(s, rows, values, s.headDim);
  },

  flops(s) {
    return 4 * s.headDim * s.heads * visiblePairsPerHead(s);
  },

  minimalBytes(s) {
    // K and V of every context read once in their storage type, Q read, O written, the lengths and
    // the used block-table entries read.
    const keys = contextLengths(s).reduce((a, b) => a + b, 0);
    const kv = 2 * keys * s.kvHeads * s.headDim * KV_ELEMENT_BYTES[s.kvType];
    const qo = 2 * s.batch * s.heads * s.seqQ * s.headDim * 4;
    const table = s.layout === 'paged' ? contextLengths(s).reduce((a, n) => a + Math.ceil(n / s.blockSize), 0) * 4 : 0;
    return kv + qo + 4 * s.batch + table;
  },

  conformanceShapes(fixed) {
    return decodeConformanceShapes(fixed).map((raw) => decodeProblem.resolve(raw));
  },
};

function rowOffset(s: DecodeShape, table: Uint32Array | undefined, b: number, kvh: number, j: number): number {
  if (!table) return ((b * s.kvHeads + kvh) * s.seqK + j) * s.headDim;
  const block = table[b * blocksPerSequence(s) + Math.floor(j / s.blockSize)]!;
  return ((block * s.kvHeads + kvh) * s.blockSize + (j % s.blockSize)) * s.headDim;
}

/** 0 … n−1 in a seeded random order (Fisher–Yates). */
function shuffled(n: number, rng: () => number): Uint32Array {
  const out = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Shapes that try to break a decode kernel: a context of one key, lengths that are not multiples of
 * a chunk or a block (7, 100, 129, 1000), Nq 1, 3 and 16 causal, multi-head, grouped- and multi-
 * query, a batch of three differing lengths, both layouts and every block size. Small heads and
 * dims keep them quick on a CPU adapter; `fixed` holds fields a configuration needs (e.g. kvType).
 */
export function decodeConformanceShapes(fixed: RawShape): RawShape[] {
  const base = { batch: 1, heads: 4, kvHeads: 2, headDim: 32, kvType: 'f32', layout: 'contiguous', blockSize: 16 };
  const cases: RawShape[] = [
    { seqK: 1 },
    { seqK: 7, heads: 3, kvHeads: 1 },
    { seqK: 100, heads: 2, kvHeads: 2, layout: 'paged', blockSize: 8 },
    { seqK: 129, layout: 'paged', blockSize: 16 },
    { seqK: 1000, heads: 8, kvHeads: 2, layout: 'paged', blockSize: 64 },
    { seqK: 1000, seqQ: 3 },
    { seqK: 16, seqQ: 16, heads: 2, kvHeads: 1, layout: 'paged', blockSize: 32 },
    { seqK: 100, seqQ: 3, batch: 3, lengths: 'mixed', layout: 'paged', blockSize: 16 },
    { seqK: 129, batch: 3, lengths: 'mixed', headDim: 64 },
    { seqK: 300, seqQ: 16, heads: 4, kvHeads: 1, batch: 2, lengths: 'mixed', layout: 'paged', blockSize: 8 },
  ];
  return cases.map((c) => ({ ...base, ...c, ...fixed }));
}
