import { createRng } from '../../rng.js';
import * as decodeStep from '../decode/context.js';
import { validateFloatTensors } from '../dense/problem.js';
import type { Problem, RawShape, ShapeField } from '../types.js';
import { mlaReferenceRows, referenceMla } from './reference.js';
import { type MlaShape, bytesPerToken, defaultScale, mlaLabel, rowWidth } from './shape.js';

export { GARBAGE } from '../decode/context.js';

// Fields shared with the decode family mean the same there (batch, seq, lengths, seq-q, kv-type:
// decode/context.ts); heads, kv-lora and rope-dim are this family's own.
export const MLA_FIELDS: readonly ShapeField[] = [
  decodeStep.BATCH_FIELD,
  {
    key: 'heads',
    flag: 'heads',
    url: 'h',
    label: 'Heads',
    help: 'Query heads per sequence, all over the one shared latent KV head (DeepSeek-V2/V3: 16 to 128).',
    kind: 'int',
    min: 1,
    max: 128,
    default: 16,
  },
  decodeStep.contextLengthField('Tokens'),
  decodeStep.LENGTHS_FIELD,
  decodeStep.QUERY_ROWS_FIELD,
  {
    key: 'kvLora',
    flag: 'kv-lora',
    url: 'kvl',
    label: 'Latent width',
    help: "kv_lora_rank: width of the cached latent c_kv, V's width and K's first part (DeepSeek: 512).",
    kind: 'int',
    min: 8,
    max: 1024,
    default: 512,
  },
  {
    key: 'ropeDim',
    flag: 'rope-dim',
    url: 'rope',
    label: 'RoPE key width',
    help: "qk_rope_head_dim: width of the decoupled RoPE key k_pe, K's last part, shared by every head (DeepSeek: 64).",
    kind: 'int',
    min: 0,
    max: 256,
    default: 64,
  },
  decodeStep.KV_TYPE_FIELD,
];

export const mlaProblem: Problem<MlaShape> = {
  family: 'mla',
  title: 'MLA absorbed decode (DeepSeek latent cache)',
  description:
    "One decode step (Nq ≤ 16 causal query rows) of DeepSeek-V2/V3's multi-head latent attention with W_UK absorbed into the query and W_UV into the output: every head attends over one shared cache row per token, K = [c_kv, k_pe] (512 + 64), V = c_kv (512), scale 1/sqrt(128 + 64). A token costs (512 + 64) × 2 = 1152 B per layer in f16, against 2 × kvHeads × d × 2 = 4096 B for the decode family's GQA default (8 KV heads of d 128).",
  fields: MLA_FIELDS,
  axis: 'seqK',

  resolve(raw: RawShape) {
    const shape = decodeStep.resolveStepShape<MlaShape>(MLA_FIELDS, raw, (values) => defaultScale(values.ropeDim));
    decodeStep.checkQueryBlock(shape);
    return shape;
  },

  label: mlaLabel,

  tensors(s) {
    const d = rowWidth(s);
    return [
      { name: 'q', role: 'input', type: 'f32', dims: [s.batch, s.heads, s.seqQ, d], layout: 'batch·heads·seqQ·(kvLora+ropeDim)' },
      { name: 'kv', role: 'input', type: s.kvType, dims: [s.batch, s.seqK, d], layout: 'batch·seqK·(kvLora+ropeDim)' },
      { name: 'contextLens', role: 'index', type: 'u32', dims: [s.batch], layout: 'batch' },
      { name: 'o', role: 'output', type: 'f32', dims: [s.batch, s.heads, s.seqQ, s.kvLora], layout: 'batch·heads·seqQ·kvLora' },
    ];
  },

  inputs(s, seed) {
    const rng = createRng(seed);
    const uniform = () => rng() * 2 - 1;
    const d = rowWidth(s);
    const q = new Float32Array(s.batch * s.heads * s.seqQ * d).map(uniform);
    const lens = Uint32Array.from(decodeStep.contextLengths(s));
    // Every slot starts as garbage; the tokens inside each context are then overwritten with data.
    const kv = new Float32Array(s.batch * s.seqK * d).map((_, i) => (i & 1 ? decodeStep.GARBAGE : -decodeStep.GARBAGE));
    for (let b = 0; b < s.batch; b++) for (let i = b * s.seqK * d, end = i + lens[b]! * d; i < end; i++) kv[i] = uniform();
    return { q, kv: decodeStep.storeKv(kv, s.kvType), contextLens: lens };
  },

  validate(s, inputs) {
    validateFloatTensors(mlaProblem, s, inputs);
    decodeStep.refuseHalfNonFinite('kv', inputs.kv);
    const lens = inputs.contextLens as Uint32Array;
    for (let b = 0; b < s.batch; b++) decodeStep.checkContextLength(s, b, lens[b]!);
  },

  reference(s, inputs, budget) {
    const rows = mlaReferenceRows(s, inputs.contextLens as Uint32Array, budget);
    const values = referenceMla(s, inputs, rows);
    return decodeStep.referenceOutput(s, rows, values, s.kvLora);
  },

  referenceCoverage(s, budget) {
    const rows = mlaReferenceRows(s, Uint32Array.from(decodeStep.contextLengths(s)), budget).length;
    const all = s.batch * s.heads * s.seqQ;
    return rows === all ? `all ${all} rows` : `${rows} of ${all} rows (sampled heads)`;
  },

  flops(s) {
    // Per visible (query, key) pair: the score over the whole row and P·V over the latent,
    // 2·(576 + 512) at the default widths.
    return 2 * (rowWidth(s) + s.kvLora) * s.heads * decodeStep.visiblePairsPerHead(s);
  },

  minimalBytes(s) {
    // The latent cache read once (every token's row, in its storage type), Q read, O written, the
    // lengths read.
    const tokens = decodeStep.contextLengths(s).reduce((a, b) => a + b, 0);
    const rows = s.batch * s.heads * s.seqQ;
    return tokens * bytesPerToken(s) + rows * (rowWidth(s) + s.kvLora) * 4 + 4 * s.batch;
  },

  conformanceShapes(fixed) {
    return mlaConformanceShapes(fixed).map((raw) => mlaProblem.resolve(raw));
  },
};

/**
 * Shapes that try to break an MLA kernel: a context of one token, lengths that are not multiples of
 * a tile or a chunk (7, 100, 129, 257), head counts that are not multiples of a row tile (3, 5, 6),
 * Nq 3 and 16 causal, a batch of three differing lengths, a cache with no RoPE part. The latent and
 * RoPE widths are small (32 + 16) to keep them quick on a CPU adapter; one shape has 64 + 8.
 */
export function mlaConformanceShapes(fixed: RawShape): RawShape[] {
  const base = { batch: 1, heads: 4, kvLora: 32, ropeDim: 16, kvType: 'f32' };
  const cases: RawShape[] = [
    { seqK: 1 },
    { seqK: 7, heads: 3 },
    { seqK: 100, heads: 16 },
    { seqK: 129, heads: 5, seqQ: 3 },
    { seqK: 257, heads: 16, kvLora: 64, ropeDim: 8 },
    { seqK: 100, batch: 3, lengths: 'mixed', heads: 6, seqQ: 2 },
    { seqK: 40, heads: 2, seqQ: 16 },
    { seqK: 65, ropeDim: 0, heads: 8 },
  ];
  return cases.map((c) => ({ ...base, ...c, ...fixed }));
}
