import { AttentionInputError } from '../../errors.js';
import { createRng, fillUniform } from '../../rng.js';
import { DENSE_FIELDS, validateFloatTensors } from '../dense/problem.js';
import { referenceSampleRows } from '../dense/reference.js';
import { resolveShape, shapeLabel, tensorSizes } from '../dense/shape.js';
import { checkFields, fieldDefaults } from '../fields.js';
import type { Problem, ShapeField } from '../types.js';
import { WINDOW_CONFORMANCE } from './conformance.js';
import { referenceWindowAttention } from './reference.js';
import { type WindowShape, touchedKeys, visiblePairsPerHead, windowLabel } from './shape.js';

export const WINDOW_FIELDS: readonly ShapeField[] = [
  // The dense sizes and their meaning (bottom-right alignment, grouped-query heads); no causal flag:
  // sliding-window attention is always causal.
  ...DENSE_FIELDS.filter((f) => f.key !== 'causal'),
  {
    key: 'window',
    flag: 'window',
    url: 'w',
    label: 'Window',
    help: 'Recent keys each query sees, its own position included (1: itself only); ModernBERT uses 128, Mistral 4096.',
    kind: 'int',
    min: 1,
    max: 1 << 20,
    default: 128,
  },
  {
    key: 'sinks',
    flag: 'sinks',
    url: 'sinks',
    label: 'Sink tokens',
    help: 'Leading keys every later query also sees (StreamingLLM’s attention sinks; 0: a plain sliding window).',
    kind: 'int',
    min: 0,
    max: 1024,
    default: 4,
  },
];

/**
 * Sliding-window attention with attention sinks: query i (at position pos = i + seqK − seqQ) sees
 * keys pos − window < j ≤ pos and the first `sinks` keys up to pos. Tensors as in dense (row-major
 * float32, grouped-query heads).
 */
export const windowProblem: Problem<WindowShape> = {
  family: 'window',
  title: 'Sliding-window attention with sinks',
  description: 'Causal softmax attention over each query’s last `window` keys plus the first `sinks` keys (StreamingLLM, local attention).',
  fields: WINDOW_FIELDS,
  axis: 'seqK',

  resolve(raw) {
    if (raw.causal === false) throw new AttentionInputError('window attention is always causal; causal = false is not a window shape');
    const given = Object.fromEntries(Object.entries(raw).filter(([key, v]) => v !== undefined && key !== 'causal'));
    const values = checkFields(WINDOW_FIELDS, { ...fieldDefaults(WINDOW_FIELDS, raw), ...given }) as Record<string, number>;
    const dense = resolveShape({
      batch: values.batch!,
      heads: values.heads!,
      kvHeads: values.kvHeads!,
      seqQ: values.seqQ!,
      seqK: values.seqK!,
      headDim: values.headDim!,
      causal: true,
      scale: typeof raw.scale === 'number' ? raw.scale : undefined,
    });
    return { ...dense, causal: true, window: values.window!, sinks: values.sinks! };
  },

  label: (s) => windowLabel(s, shapeLabel(s)),

  tensors(s) {
    return [
      { name: 'q', role: 'input', type: 'f32', dims: [s.batch, s.heads, s.seqQ, s.headDim], layout: 'batch·heads·seqQ·headDim' },
      { name: 'k', role: 'input', type: 'f32', dims: [s.batch, s.kvHeads, s.seqK, s.headDim], layout: 'batch·kvHeads·seqK·headDim' },
      { name: 'v', role: 'input', type: 'f32', dims: [s.batch, s.kvHeads, s.seqK, s.headDim], layout: 'batch·kvHeads·seqK·headDim' },
      { name: 'o', role: 'output', type: 'f32', dims: [s.batch, s.heads, s.seqQ, s.headDim], layout: 'batch·heads·seqQ·headDim' },
    ];
  },

  inputs(s, seed) {
    // As dense: uniform in [-1, 1), never zeros, in the order q, k, v (a window shape with a window
    // past seqK gets the same inputs as the dense causal shape).
    const sizes = tensorSizes(s);
    const rng = createRng(seed);
    return {
      q: fillUniform(new Float32Array(sizes.q), rng),
      k: fillUniform(new Float32Array(sizes.k), rng),
      v: fillUniform(new Float32Array(sizes.v), rng),
    };
  },

  validate(s, inputs) {
    validateFloatTensors(windowProblem, s, inputs);
  },

  reference(s, inputs, budget) {
    // A row costs 2·d multiply-adds per key it sees, at most window + sinks keys.
    const widest = Math.min(s.seqK, s.window + s.sinks);
    const rows = referenceSampleRows({ ...s, seqK: widest }, budget);
    const values = referenceWindowAttention(s, { q: inputs.q as Float32Array, k: inputs.k as Float32Array, v: inputs.v as Float32Array }, rows);
    return { o: rows ? { values, rows, rowWidth: s.headDim } : { values, rowWidth: s.headDim } };
  },

  flops(s) {
    // 2 FLOPs per head-dim element for QKᵀ and again for PV, per visible (query, key) pair.
    return 4 * s.headDim * s.batch * s.heads * visiblePairsPerHead(s);
  },

  minimalBytes(s) {
    // Q read and O written once; of K and V only the rows some query sees (all of them unless
    // seqQ is well below seqK, e.g. decode over a cache longer than the window).
    const sizes = tensorSizes(s);
    const kvRows = s.batch * s.kvHeads * touchedKeys(s);
    return 4 * (sizes.q + sizes.o + 2 * kvRows * s.headDim);
  },

  conformanceShapes(fixed) {
    const headDim = typeof fixed.headDim === 'number' ? fixed.headDim : 64;
    return WINDOW_CONFORMANCE.map((raw) => windowProblem.resolve({ ...raw, ...fixed, headDim }));
  },
};
