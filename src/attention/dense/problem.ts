import { AttentionInputError } from '../../errors.js';
import { createRng, fillUniform } from '../../rng.js';
import { conformanceShapes } from './conformance.js';
import { type ResolvedShape, resolveShape, shapeLabel, tensorSizes, unmaskedPairsPerHead } from './shape.js';
import { referenceAttention, referenceSampleRows } from './reference.js';
import { checkFields, fieldDefaults } from '../fields.js';
import type { HostTensors, Problem, ShapeField } from '../types.js';

export const DENSE_FIELDS: readonly ShapeField[] = [
  { key: 'batch', flag: 'batch', url: 'b', label: 'Batch', help: 'Independent sequences.', kind: 'int', min: 1, max: 4096, default: 1 },
  { key: 'heads', flag: 'heads', url: 'h', label: 'Heads', help: 'Query heads per batch element.', kind: 'int', min: 1, max: 1024, default: 4 },
  {
    key: 'kvHeads',
    flag: 'kv-heads',
    url: 'kvh',
    label: 'KV heads',
    help: 'Key/value heads; must divide Heads (equal: multi-head, 1: multi-query, between: grouped-query).',
    kind: 'int',
    min: 1,
    max: 1024,
    default: { sameAs: 'heads' },
  },
  {
    key: 'seqQ',
    flag: 'seq-q',
    url: 'nq',
    label: 'Query length',
    help: 'Query rows Nq, when they differ from the key length (e.g. 1 for decode).',
    kind: 'int',
    min: 1,
    max: 1 << 22,
    default: { sameAs: 'seqK' },
  },
  {
    key: 'seqK',
    flag: 'seq',
    url: 'n',
    label: 'Sequence lengths',
    help: 'Key length Nk, and query length too unless the query length is given.',
    kind: 'int',
    min: 1,
    max: 1 << 22,
    default: 256,
  },
  {
    key: 'headDim',
    flag: 'dim',
    url: 'd',
    label: 'Head dim',
    help: 'd: features per head. Flash needs a multiple of 4.',
    kind: 'int',
    min: 1,
    max: 1024,
    default: 64,
  },
  {
    key: 'causal',
    flag: 'causal',
    url: 'causal',
    label: 'Causal',
    help: 'Bottom-right causal mask: query i sees keys up to i + (Nk − Nq).',
    kind: 'bool',
    default: false,
  },
];

/**
 * Dense softmax attention, O = softmax(scale·QKᵀ [+ causal mask])·V, with grouped-query heads:
 * the family the naive and FlashAttention kernels compute. Tensors are row-major float32.
 */
export const denseProblem: Problem<ResolvedShape> = {
  family: 'dense',
  title: 'Dense attention',
  description: 'softmax(scale·QKᵀ)·V over every key (bottom-right causal mask optional), grouped-query heads.',
  fields: DENSE_FIELDS,
  axis: 'seqK',

  resolve(raw) {
    const values = checkFields(DENSE_FIELDS, { ...fieldDefaults(DENSE_FIELDS, raw), ...definedOnly(raw) });
    return resolveShape({ ...(values as unknown as ResolvedShape), scale: typeof raw.scale === 'number' ? raw.scale : undefined! });
  },

  label: shapeLabel,

  tensors(s) {
    return [
      { name: 'q', role: 'input', type: 'f32', dims: [s.batch, s.heads, s.seqQ, s.headDim], layout: 'batch·heads·seqQ·headDim' },
      { name: 'k', role: 'input', type: 'f32', dims: [s.batch, s.kvHeads, s.seqK, s.headDim], layout: 'batch·kvHeads·seqK·headDim' },
      { name: 'v', role: 'input', type: 'f32', dims: [s.batch, s.kvHeads, s.seqK, s.headDim], layout: 'batch·kvHeads·seqK·headDim' },
      { name: 'o', role: 'output', type: 'f32', dims: [s.batch, s.heads, s.seqQ, s.headDim], layout: 'batch·heads·seqQ·headDim' },
    ];
  },

  inputs: seededQkv,

  validate(s, inputs) {
    validateFloatTensors(denseProblem, s, inputs);
  },

  reference(s, inputs, budget) {
    const dense = { ...s, q: inputs.q as Float32Array, k: inputs.k as Float32Array, v: inputs.v as Float32Array };
    const rows = referenceSampleRows(s, budget);
    const values = referenceAttention(dense, rows);
    return { o: rows ? { values, rows, rowWidth: s.headDim } : { values, rowWidth: s.headDim } };
  },

  referenceCoverage(s, budget) {
    const sample = referenceSampleRows(s, budget);
    const totalRows = s.batch * s.heads * s.seqQ;
    return sample ? `${sample.length} of ${totalRows} rows (sampled)` : `all ${totalRows} rows`;
  },

  flops(s) {
    // 2 FLOPs (multiply and add) per head-dim element, for QKᵀ and again for PV, per unmasked pair.
    return 4 * s.headDim * s.batch * s.heads * unmaskedPairsPerHead(s);
  },

  minimalBytes(s) {
    const sizes = tensorSizes(s);
    return 4 * (sizes.q + sizes.k + sizes.v + sizes.o);
  },

  conformanceShapes(fixed) {
    const headDim = typeof fixed.headDim === 'number' ? fixed.headDim : 64;
    return conformanceShapes(headDim).map((raw) => denseProblem.resolve(raw as never));
  },
};

/**
 * Uniform Q, K and V in [-1, 1), never zeros (which would hide unwritten outputs), drawn in the
 * order q, k, v so that a seed reproduces the inputs of earlier results files. Needs only the
 * sizes, so it serves unchecked shapes too (randomInputs).
 */
export function seededQkv(s: Parameters<typeof tensorSizes>[0], seed: number): { q: Float32Array; k: Float32Array; v: Float32Array } {
  const sizes = tensorSizes(s);
  const rng = createRng(seed);
  return {
    q: fillUniform(new Float32Array(sizes.q), rng),
    k: fillUniform(new Float32Array(sizes.k), rng),
    v: fillUniform(new Float32Array(sizes.v), rng),
  };
}

function definedOnly(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}

/**
 * Sizes against the tensor list and finiteness of every float input. Non-finite inputs are refused:
 * WGSL lets an implementation assume no NaN or infinity occurs in a shader, so a GPU's output for
 * them is undefined (it may differ between GPUs and kernels); only the CPU reference follows IEEE.
 */
export function validateFloatTensors<S extends object>(problem: Problem<S>, s: S, inputs: HostTensors): void {
  for (const spec of problem.tensors(s)) {
    if (spec.role === 'output') continue;
    const data = inputs[spec.name];
    const count = spec.dims.reduce((a, b) => a * b, 1);
    const expected = spec.type === 'f32' ? Float32Array : spec.type === 'f16' ? Uint16Array : spec.type === 'u32' ? Uint32Array : Int32Array;
    if (!(data instanceof expected)) {
      throw new AttentionInputError(`${spec.name} must be a ${expected.name}, got ${describe(data)}`);
    }
    if (data.length !== count) {
      throw new AttentionInputError(`${spec.name} has ${data.length} elements but the shape needs ${spec.layout} = ${count}`);
    }
    if (data instanceof Float32Array) {
      for (let i = 0; i < data.length; i++) {
        // x - x is NaN exactly for NaN and ±Infinity: one comparison per element on a hot path.
        const x = data[i]!;
        if (x - x !== 0) {
          throw new AttentionInputError(`${spec.name}[${i}] is ${x}: GPU kernels need finite inputs (WGSL leaves NaN and infinity undefined)`);
        }
      }
    }
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return (value as object).constructor?.name ?? typeof value;
}
