import { AttentionInputError } from '../../errors.js';
import { validateFloatTensors } from '../dense/problem.js';
import type { Expected, HostTensors, Problem, RawShape, ShapeField, TensorSpec } from '../types.js';
import { attendInputs, pipelineInputs, selectInputs } from './inputs.js';
import { createRng } from '../../rng.js';
import { indexerInputs } from './inputs.js';
import { type AttentionTensors, type IndexerTensors, indexScores, sampleRows, selectTopK, sparseAttentionRow } from './reference.js';
import {
  ATTEND_FIELDS,
  INDEX_FIELDS,
  PIPELINE_FIELDS,
  SELECT_FIELDS,
  type TopkShape,
  causalPairs,
  firstQuery,
  resolveTopkShape,
  selectedPairs,
} from './shape.js';

/** What the selection and the index scores write where a key is past the query (a finite −∞: WGSL has no reliable infinities). */
export const MASKED_SCORE = -3.0e38;

const attentionTensors = (s: TopkShape): TensorSpec[] => [
  { name: 'q', role: 'input', type: 'f32', dims: [s.batch, s.heads, s.seqK, s.headDim], layout: 'batch·heads·N·headDim' },
  { name: 'k', role: 'input', type: 'f32', dims: [s.batch, s.kvHeads, s.seqK, s.headDim], layout: 'batch·kvHeads·N·headDim' },
  { name: 'v', role: 'input', type: 'f32', dims: [s.batch, s.kvHeads, s.seqK, s.headDim], layout: 'batch·kvHeads·N·headDim' },
];
const indexerTensors = (s: TopkShape): TensorSpec[] => [
  { name: 'indexQ', role: 'input', type: 'f32', dims: [s.batch, s.seqK, s.indexHeads, s.indexDim], layout: 'batch·N·indexHeads·indexDim' },
  { name: 'indexK', role: 'input', type: 'f32', dims: [s.batch, s.seqK, s.indexDim], layout: 'batch·N·indexDim' },
  { name: 'indexW', role: 'input', type: 'f32', dims: [s.batch, s.seqK, s.indexHeads], layout: 'batch·N·indexHeads' },
];
const outputTensor = (s: TopkShape): TensorSpec => ({
  name: 'o',
  role: 'output',
  type: 'f32',
  dims: [s.batch, s.heads, s.seqK, s.headDim],
  layout: 'batch·heads·N·headDim',
});
const indicesTensor = (s: TopkShape, role: 'index' | 'output', rows: number): TensorSpec => ({
  name: 'indices',
  role,
  type: 'i32',
  dims: [s.batch, rows, s.topK],
  layout: rows === s.seqK ? 'batch·N·topK' : 'batch·queryRows·topK',
});

const tensorBytes = (specs: TensorSpec[]) => specs.reduce((sum, t) => sum + 4 * t.dims.reduce((a, b) => a * b, 1), 0);

function label(s: TopkShape, fields: readonly ShapeField[]): string {
  const has = (key: string) => fields.some((f) => f.key === key);
  const parts = [`B${s.batch}`];
  if (has('heads')) parts.push(s.kvHeads === s.heads ? `H${s.heads}` : `H${s.heads}/${s.kvHeads}`);
  parts.push(`N${s.seqK}`);
  if (has('queryRows') && s.queryRows !== s.seqK) parts.push(`rows${s.queryRows}`);
  if (has('headDim')) parts.push(`d${s.headDim}`);
  if (has('topK')) parts.push(`k${s.topK}`);
  if (has('indexHeads')) parts.push(`idx${s.indexHeads}×${s.indexDim}`);
  if (s.ties && has('ties')) parts.push('ties');
  return parts.join(' ');
}

const attentionOf = (inputs: HostTensors): AttentionTensors => ({ q: inputs.q as Float32Array, k: inputs.k as Float32Array, v: inputs.v as Float32Array });
const indexerOf = (inputs: HostTensors): IndexerTensors => ({
  indexQ: inputs.indexQ as Float32Array,
  indexK: inputs.indexK as Float32Array,
  indexW: inputs.indexW as Float32Array,
});

/** Expected attention rows o[b, h, i] for every head of each (b, i) in `queries`, from each query's selection. */
function expectedAttention(s: TopkShape, t: AttentionTensors, queries: readonly number[], selection: (bi: number) => ArrayLike<number>) {
  const rows: number[] = [];
  const values = new Float64Array(queries.length * s.heads * s.headDim);
  let at = 0;
  // Rows of o are (b, h, i); emitted in increasing row order as the comparison expects.
  const byRow = queries.flatMap((bi) =>
    Array.from({ length: s.heads }, (_, h) => ({ bi, h, row: (Math.floor(bi / s.seqK) * s.heads + h) * s.seqK + (bi % s.seqK) })),
  );
  byRow.sort((a, b) => a.row - b.row);
  for (const { bi, h, row } of byRow) {
    values.set(sparseAttentionRow(s, t, selection(bi), Math.floor(bi / s.seqK), h, bi % s.seqK), at);
    at += s.headDim;
    rows.push(row);
  }
  return { values, rows, rowWidth: s.headDim };
}

function conformance(fixed: RawShape, make: (raw: RawShape) => TopkShape, cases: RawShape[]): TopkShape[] {
  return cases.map((c) => make({ ...c, ...fixed }));
}

// Lengths 1, 7, 100, 129 against topK 1, 4, 16, 64 (topK ≥ N included), grouped-query and
// multi-query heads, batch 2, and tied index scores.
const PIPELINE_CASES: RawShape[] = [
  { batch: 1, heads: 2, kvHeads: 2, seqK: 1, topK: 4 },
  { batch: 2, heads: 2, kvHeads: 1, seqK: 7, topK: 4 },
  { batch: 1, heads: 4, kvHeads: 2, seqK: 100, topK: 16 },
  { batch: 1, heads: 3, kvHeads: 1, seqK: 129, topK: 64, indexHeads: 3, indexDim: 12 },
  { batch: 1, heads: 2, kvHeads: 2, seqK: 100, topK: 1 },
  { batch: 2, heads: 2, kvHeads: 2, seqK: 7, topK: 64 },
  { batch: 1, heads: 2, kvHeads: 1, seqK: 129, topK: 16, ties: true },
];

/** The whole of DeepSeek Sparse Attention: indexer, top-k selection and attention over the selected keys. */
export const topkProblem: Problem<TopkShape> = {
  family: 'topk',
  title: 'Top-k sparse attention (DeepSeek Sparse Attention)',
  description:
    'A lightning indexer scores every causal key for each query, Σₕ w·ReLU(qᴵ·kᴵ); each query attends to its topK best keys only (ties to the lower index), every head of a query over the same keys.',
  fields: PIPELINE_FIELDS,
  axis: 'seqK',
  resolve: (raw) => resolveTopkShape(PIPELINE_FIELDS, raw),
  label: (s) => label(s, PIPELINE_FIELDS),
  tensors: (s) => [...attentionTensors(s), ...indexerTensors(s), outputTensor(s), indicesTensor(s, 'output', s.seqK)],
  inputs: (s, seed) => pipelineInputs(s, seed),
  validate(s, inputs) {
    validateFloatTensors(topkProblem, s, inputs);
  },
  reference(s, inputs, budget) {
    // Per query: its index scores (i + 1 keys), then attention of every head over topK keys.
    const cost = (s.seqK / 2) * s.indexHeads * s.indexDim + 2 * s.heads * Math.min(s.topK, s.seqK) * s.headDim;
    const all = s.batch * s.seqK;
    const queries = sampleRows(all, cost, budget) ?? Array.from({ length: all }, (_, bi) => bi);
    const indexer = indexerOf(inputs);
    const selections = new Map<number, Int32Array>();
    for (const bi of queries) {
      const b = Math.floor(bi / s.seqK);
      const i = bi % s.seqK;
      selections.set(bi, selectTopK(indexScores(s, indexer, b, i), i + 1, s.topK));
    }
    const indexValues = new Float64Array(queries.length * s.topK);
    queries.forEach((bi, r) => indexValues.set(selections.get(bi)!, r * s.topK));
    const expected: Expected = {
      o: expectedAttention(s, attentionOf(inputs), queries, (bi) => selections.get(bi)!),
      indices: { values: indexValues, rows: queries, rowWidth: s.topK },
    };
    return expected;
  },
  flops(s) {
    // Indexer: indexHeads dot products of indexDim per causal pair (2 FLOPs a term); attention:
    // QKᵀ and PV over the selected pairs of every head.
    const indexer = 2 * s.indexHeads * s.indexDim * s.batch * causalPairs(0, s.seqK);
    return indexer + 4 * s.headDim * s.batch * s.heads * selectedPairs(s);
  },
  minimalBytes: (s) => tensorBytes(topkProblem.tensors(s)),
  conformanceShapes: (fixed) =>
    conformance(
      fixed,
      topkProblem.resolve,
      PIPELINE_CASES.map((c) => ({ headDim: 32, indexHeads: 2, indexDim: 16, ...c })),
    ),
};

/** Stage 1 alone: the indexer's scores of the last queryRows queries against every key. */
export const topkIndexProblem: Problem<TopkShape> = {
  family: 'topk-index',
  title: 'Top-k sparse attention: lightning indexer',
  description: `I(i, j) = Σₕ w(i, h)·ReLU(qᴵ(i, h)·kᴵ(j)) for the last queryRows queries and every key; ${MASKED_SCORE} past the causal limit.`,
  fields: INDEX_FIELDS,
  axis: 'seqK',
  resolve: (raw) => resolveTopkShape(INDEX_FIELDS, raw),
  label: (s) => label(s, INDEX_FIELDS),
  tensors: (s) => [...indexerTensors(s), { name: 'scores', role: 'output', type: 'f32', dims: [s.batch, s.queryRows, s.seqK], layout: 'batch·queryRows·N' }],
  inputs: (s, seed) => indexerInputs(s, createRng(seed)),
  validate(s, inputs) {
    validateFloatTensors(topkIndexProblem, s, inputs);
  },
  reference(s, inputs, budget) {
    const total = s.batch * s.queryRows;
    const rows = sampleRows(total, s.seqK * s.indexHeads * s.indexDim, budget);
    const picked = rows ?? Array.from({ length: total }, (_, r) => r);
    const values = new Float64Array(picked.length * s.seqK).fill(MASKED_SCORE);
    const tensors = indexerOf(inputs);
    picked.forEach((row, m) => {
      const b = Math.floor(row / s.queryRows);
      const i = firstQuery(s) + (row % s.queryRows);
      values.set(indexScores(s, tensors, b, i), m * s.seqK);
    });
    return { scores: rows ? { values, rows, rowWidth: s.seqK } : { values, rowWidth: s.seqK } };
  },
  flops: (s) => 2 * s.indexHeads * s.indexDim * s.batch * causalPairs(firstQuery(s), s.queryRows),
  minimalBytes: (s) => tensorBytes(topkIndexProblem.tensors(s)),
  conformanceShapes: (fixed) =>
    conformance(fixed, topkIndexProblem.resolve, [
      { seqK: 1, indexHeads: 1, indexDim: 4 },
      { seqK: 7, batch: 2, indexHeads: 2, indexDim: 8 },
      { seqK: 100, indexHeads: 3, indexDim: 20 },
      { seqK: 129, queryRows: 67, indexHeads: 2, indexDim: 64 },
      { seqK: 129, batch: 2, queryRows: 1, indexHeads: 4, indexDim: 16, ties: true },
    ]),
};

/** Stage 2 alone: the top-k keys of given scores for the last queryRows queries. */
export const topkSelectProblem: Problem<TopkShape> = {
  family: 'topk-select',
  title: 'Top-k sparse attention: selection',
  description:
    'For each of the last queryRows queries i, the topK largest of scores[i, 0..i] (ties to the lower key), as key indices sorted ascending, −1 in unused slots.',
  fields: SELECT_FIELDS,
  axis: 'seqK',
  resolve: (raw) => resolveTopkShape(SELECT_FIELDS, raw),
  label: (s) => label(s, SELECT_FIELDS),
  tensors: (s) => [
    { name: 'scores', role: 'input', type: 'f32', dims: [s.batch, s.queryRows, s.seqK], layout: 'batch·queryRows·N' },
    indicesTensor(s, 'output', s.queryRows),
  ],
  inputs: (s, seed) => selectInputs(s, seed),
  validate(s, inputs) {
    validateFloatTensors(topkSelectProblem, s, inputs);
  },
  reference(s, inputs, budget) {
    const scores = inputs.scores as Float32Array;
    const total = s.batch * s.queryRows;
    // A sort per row: about N·log₂N comparisons.
    const rows = sampleRows(total, s.seqK * Math.log2(s.seqK + 1), budget);
    const picked = rows ?? Array.from({ length: total }, (_, r) => r);
    const values = new Float64Array(picked.length * s.topK);
    picked.forEach((row, m) => {
      const i = firstQuery(s) + (row % s.queryRows);
      values.set(selectTopK(scores.subarray(row * s.seqK, (row + 1) * s.seqK), i + 1, s.topK), m * s.topK);
    });
    return { indices: rows ? { values, rows, rowWidth: s.topK } : { values, rowWidth: s.topK } };
  },
  // No floating-point arithmetic: the work is comparisons. Counted as one operation per candidate
  // key, so that FLOP/s reads as keys per second.
  flops: (s) => s.batch * causalPairs(firstQuery(s), s.queryRows),
  minimalBytes: (s) => tensorBytes(topkSelectProblem.tensors(s)),
  conformanceShapes: (fixed) =>
    conformance(fixed, topkSelectProblem.resolve, [
      { seqK: 1, topK: 1 },
      { seqK: 7, topK: 4, batch: 2 },
      { seqK: 100, topK: 16 },
      { seqK: 129, topK: 64 },
      { seqK: 100, topK: 1, ties: true },
      { seqK: 129, topK: 16, queryRows: 50, ties: true },
      { seqK: 7, topK: 64 },
      { seqK: 3000, topK: 700, queryRows: 3, ties: true },
      { seqK: 3000, topK: 5, queryRows: 2 },
    ]),
};

/** Stage 3 alone: attention over given selected keys. */
export const topkAttendProblem: Problem<TopkShape> = {
  family: 'topk-attend',
  title: 'Top-k sparse attention: attention over selected keys',
  description: "softmax(scale·q·Kᵀ)·V over each query's listed keys (−1 skipped), the same keys for every head of the query.",
  fields: ATTEND_FIELDS,
  axis: 'seqK',
  resolve: (raw) => resolveTopkShape(ATTEND_FIELDS, raw),
  label: (s) => label(s, ATTEND_FIELDS),
  tensors: (s) => [...attentionTensors(s), indicesTensor(s, 'index', s.seqK), outputTensor(s)],
  inputs: (s, seed) => attendInputs(s, seed),
  validate(s, inputs) {
    validateFloatTensors(topkAttendProblem, s, inputs);
    validateIndices(s, inputs.indices as Int32Array);
  },
  reference(s, inputs, budget) {
    const indices = inputs.indices as Int32Array;
    const all = s.batch * s.seqK;
    const queries = sampleRows(all, 2 * s.heads * s.topK * s.headDim, budget) ?? Array.from({ length: all }, (_, bi) => bi);
    return { o: expectedAttention(s, attentionOf(inputs), queries, (bi) => indices.subarray(bi * s.topK, (bi + 1) * s.topK)) };
  },
  flops: (s) => 4 * s.headDim * s.batch * s.heads * selectedPairs(s),
  minimalBytes: (s) => tensorBytes(topkAttendProblem.tensors(s)),
  conformanceShapes: (fixed) =>
    conformance(fixed, topkAttendProblem.resolve, [
      { seqK: 1, topK: 1, heads: 1, headDim: 32 },
      { seqK: 7, topK: 4, batch: 2, heads: 2, kvHeads: 1, headDim: 32 },
      { seqK: 100, topK: 16, heads: 4, kvHeads: 2, headDim: 64 },
      { seqK: 129, topK: 64, heads: 3, kvHeads: 1, headDim: 12 },
      { seqK: 129, topK: 23, heads: 2, headDim: 128 },
      { seqK: 7, topK: 64, heads: 2, headDim: 32 },
    ]),
};

/**
 * Every index is −1 (unused) or a key the query may see (0 ≤ j ≤ i): anything else would read past
 * K and V or break causality. Names the first bad query, slot and value.
 */
export function validateIndices(s: TopkShape, indices: Int32Array): void {
  for (let b = 0; b < s.batch; b++)
    for (let i = 0; i < s.seqK; i++) {
      const row = (b * s.seqK + i) * s.topK;
      for (let slot = 0; slot < s.topK; slot++) {
        const j = indices[row + slot]!;
        if (j === -1 || (j >= 0 && j <= i)) continue;
        const why =
          j < -1 ? 'is negative (only −1 marks an unused slot)' : j >= s.seqK ? `is past the last key ${s.seqK - 1}` : `is past the query's causal limit ${i}`;
        throw new AttentionInputError(`indices[batch ${b}, query ${i}, slot ${slot}] = ${j} ${why}`);
      }
    }
}
