import { AttentionInputError } from '../../errors.js';
import { createRng, fillUniform } from '../../rng.js';
import { checkFields, fieldDefaults } from '../fields.js';
import { fromHalfArray, toHalfArray } from '../half.js';
import type { HostTensor, HostTensors, Problem, ShapeField, TensorSpec } from '../types.js';
import { referenceHeads, referenceLinear } from './reference.js';
import { type LinearShape, shapeLabel } from './shape.js';

export const LINEAR_FIELDS: readonly ShapeField[] = [
  {
    key: 'batch',
    flag: 'batch',
    url: 'b',
    label: 'Batch',
    help: 'Independent sequences, each with its own states.',
    kind: 'int',
    min: 1,
    max: 4096,
    default: 1,
  },
  {
    key: 'heads',
    flag: 'heads',
    url: 'h',
    label: 'Heads',
    help: 'Value heads per sequence, each with a d_k×d_v state.',
    kind: 'int',
    min: 1,
    max: 1024,
    default: 4,
  },
  {
    key: 'qkHeads',
    flag: 'qk-heads',
    url: 'hqk',
    label: 'Query/key heads',
    help: 'Heads of q and k; must divide Heads. Fewer than Heads is GVA (grouped value attention, as Qwen3-Next): heads / qkHeads value heads, each with its own state and gates, share one q and k.',
    kind: 'int',
    min: 1,
    max: 1024,
    default: { sameAs: 'heads' },
    // Results stored before this field existed had one q/k head per value head.
    absent: 'default',
  },
  {
    key: 'seqK',
    flag: 'seq',
    url: 'n',
    label: 'Sequence lengths',
    help: 'Tokens T per sequence (1: one decode step).',
    kind: 'int',
    min: 1,
    max: 1 << 20,
    default: 256,
  },
  {
    key: 'dk',
    flag: 'dim-k',
    url: 'dk',
    label: 'Key dim',
    help: 'd_k: query/key features, the rows of the state.',
    kind: 'int',
    min: 1,
    max: 512,
    default: 64,
  },
  {
    key: 'dv',
    flag: 'dim-v',
    url: 'dv',
    label: 'Value dim',
    help: 'd_v: value features, the columns of the state.',
    kind: 'int',
    min: 1,
    max: 512,
    default: 64,
  },
  {
    key: 'rule',
    flag: 'rule',
    url: 'rule',
    label: 'Update rule',
    help: 'gla: S ← αS + kvᵀ (gated linear attention, Mamba2 SSD); delta: S ← α(I − βkkᵀ)S + βkvᵀ (gated DeltaNet, L2-normalized q and k).',
    kind: 'choice',
    choices: ['gla', 'delta'],
    default: 'delta',
  },
  {
    key: 'decay',
    flag: 'decay',
    url: 'decay',
    label: 'Decay',
    help: 'Seeded gates: strong αₜ ≈ 0.27–0.73 (short memory), weak αₜ ≈ 0.98–0.995 (long memory).',
    kind: 'choice',
    choices: ['strong', 'weak'],
    default: 'weak',
  },
  {
    key: 'storage',
    flag: 'storage',
    url: 'storage',
    label: 'Storage',
    help: 'Element type of q, k, v, g, β and o (the state and all accumulation stay f32).',
    kind: 'choice',
    choices: ['f32', 'f16'],
    default: 'f32',
  },
];

/**
 * Linear attention with a fixed d_k×d_v state per head instead of an N×N score matrix: gated linear
 * attention (scalar decay, the form Mamba2's SSD reduces to) and the gated delta rule (Qwen3-Next's
 * gated DeltaNet). Prefill costs O(T·d_k·d_v); decode reads and writes one state.
 */
export const linearProblem: Problem<LinearShape> = {
  family: 'linear',
  title: 'Linear attention (GLA, gated DeltaNet)',
  description: 'A d_k×d_v state per head, decayed by αₜ = exp(gₜ) and updated per token (gla: +kvᵀ; delta: the gated delta rule); oₜ = Sₜᵀqₜ.',
  fields: LINEAR_FIELDS,
  axis: 'seqK',

  resolve(raw) {
    const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    const values = checkFields(LINEAR_FIELDS, { ...fieldDefaults(LINEAR_FIELDS, raw), ...given }) as unknown as Omit<LinearShape, 'scale'>;
    if (values.heads % values.qkHeads !== 0) {
      throw new AttentionInputError(
        `qkHeads (${values.qkHeads}) must divide heads (${values.heads}): each query/key head serves a whole group of value heads (GVA)`,
      );
    }
    return { ...values, scale: 1 / Math.sqrt(values.dk) };
  },

  label: shapeLabel,

  tensors(s) {
    const t = s.storage;
    const { batch: B, heads: H, qkHeads: HK, seqK: T, dk, dv } = s;
    const specs: TensorSpec[] = [
      { name: 'q', role: 'input', type: t, dims: [B, HK, T, dk], layout: 'batch·qkHeads·seq·dk' },
      { name: 'k', role: 'input', type: t, dims: [B, HK, T, dk], layout: 'batch·qkHeads·seq·dk' },
      { name: 'v', role: 'input', type: t, dims: [B, H, T, dv], layout: 'batch·heads·seq·dv' },
      { name: 'g', role: 'input', type: t, dims: [B, H, T], layout: 'batch·heads·seq (log-decay, ≤ 0)' },
    ];
    if (s.rule === 'delta') specs.push({ name: 'beta', role: 'input', type: t, dims: [B, H, T], layout: 'batch·heads·seq (in [0, 1])' });
    specs.push(
      { name: 's0', role: 'input', type: 'f32', dims: [B, H, dk, dv], layout: 'batch·heads·dk·dv (initial state)' },
      { name: 'o', role: 'output', type: t, dims: [B, H, T, dv], layout: 'batch·heads·seq·dv' },
      { name: 'sT', role: 'output', type: 'f32', dims: [B, H, dk, dv], layout: 'batch·heads·dk·dv (final state)' },
    );
    return specs;
  },

  inputs(s, seed) {
    const rng = createRng(seed);
    const n = s.batch * s.heads * s.seqK;
    const nqk = s.batch * s.qkHeads * s.seqK;
    const q = fillUniform(new Float32Array(nqk * s.dk), rng);
    const k = fillUniform(new Float32Array(nqk * s.dk), rng);
    const v = fillUniform(new Float32Array(n * s.dv), rng);
    // gₜ = −softplus(u)·c as in Mamba2 and gated DeltaNet: strong c = 1 (α ≈ 0.27–0.73), weak c = 1/64.
    const c = s.decay === 'strong' ? 1 : 1 / 64;
    const g = new Float32Array(n).map(() => -c * Math.log1p(Math.exp(rng() * 2 - 1)));
    const beta = new Float32Array(n).map(() => 1 / (1 + Math.exp(-(rng() * 4 - 2))));
    const s0 = fillUniform(new Float32Array(s.batch * s.heads * s.dk * s.dv), rng, 0.5);
    const store = (x: Float32Array): HostTensor => (s.storage === 'f16' ? toHalfArray(x) : x);
    return { q: store(q), k: store(k), v: store(v), g: store(g), ...(s.rule === 'delta' ? { beta: store(beta) } : {}), s0 };
  },

  validate(s, inputs) {
    for (const spec of linearProblem.tensors(s)) {
      if (spec.role === 'output') continue;
      const data = inputs[spec.name];
      const count = spec.dims.reduce((a, b) => a * b, 1);
      const want = spec.type === 'f16' ? Uint16Array : Float32Array;
      if (!(data instanceof want))
        throw new AttentionInputError(`${spec.name} must be a ${want.name} (${spec.type}), got ${data?.constructor?.name ?? String(data)}`);
      if (data.length !== count) throw new AttentionInputError(`${spec.name} has ${data.length} elements but the shape needs ${spec.layout} = ${count}`);
      const values = data instanceof Uint16Array ? fromHalfArray(data) : (data as Float32Array);
      for (let i = 0; i < values.length; i++) {
        const x = values[i]!;
        // x - x is NaN exactly for NaN and ±Infinity; WGSL leaves both undefined.
        if (x - x !== 0) throw new AttentionInputError(`${spec.name}[${i}] is ${x}: GPU kernels need finite inputs (WGSL leaves NaN and infinity undefined)`);
        // g > 0 would grow the state (α > 1) and overflow the chunked kernels' decay ratios.
        if (spec.name === 'g' && x > 0) throw new AttentionInputError(`g[${i}] is ${x}: the log-decay must be ≤ 0 (α = exp(g) ≤ 1)`);
        if (spec.name === 'beta' && (x < 0 || x > 1)) throw new AttentionInputError(`beta[${i}] is ${x}: β must lie in [0, 1]`);
      }
    }
  },

  reference(s, inputs, budget) {
    const heads = referenceHeads(s, budget);
    const values = (name: string) => {
      const data = inputs[name]!;
      return data instanceof Uint16Array ? fromHalfArray(data) : (data as Float32Array);
    };
    const result = referenceLinear(
      s,
      { q: values('q'), k: values('k'), v: values('v'), g: values('g'), beta: s.rule === 'delta' ? values('beta') : undefined, s0: values('s0') },
      heads,
    );
    if (!heads) return { o: { values: result.o, rowWidth: s.dv }, sT: { values: result.sT, rowWidth: s.dv } };
    // Rows of dv values: the T output rows and the d_k state rows of each chosen head.
    const rows = (per: number) => heads.flatMap((bh) => Array.from({ length: per }, (_, i) => bh * per + i));
    return {
      o: { values: result.o, rows: rows(s.seqK), rowWidth: s.dv },
      sT: { values: result.sT, rows: rows(s.dk), rowWidth: s.dv },
    };
  },

  flops(s) {
    // Per token and head: state decay + update (2·dk·dv) and the read Sᵀq (2·dk·dv); delta adds Sᵀk (2·dk·dv).
    return s.batch * s.heads * s.seqK * s.dk * s.dv * (s.rule === 'delta' ? 6 : 4);
  },

  minimalBytes(s) {
    const e = s.storage === 'f16' ? 2 : 4;
    const n = s.batch * s.heads * s.seqK;
    const perToken = 2 * s.dv + 1 + (s.rule === 'delta' ? 1 : 0);
    // q and k once per query/key head, however many value heads share them.
    return (n * perToken + s.batch * s.qkHeads * s.seqK * 2 * s.dk) * e + 2 * s.batch * s.heads * s.dk * s.dv * 4;
  },

  conformanceShapes(fixed) {
    const base = {
      dk: typeof fixed.dk === 'number' ? fixed.dk : 32,
      dv: typeof fixed.dv === 'number' ? fixed.dv : 32,
      storage: typeof fixed.storage === 'string' ? fixed.storage : 'f32',
    };
    // The odd-width case's d_v: 24 by default (no power-of-two tile divides it); a kernel whose
    // d_v must be a multiple of its matrix size names its own (48: no tile above 16 divides it).
    const oddDv = typeof fixed.oddDv === 'number' ? fixed.oddDv : 24;
    // Length 1 (a decode step), one short of a chunk, a chunk, one past it, and a run of several
    // chunks (257, not 1000: SwiftShader runs these in CI); both
    // rules and decays; batch 2 and several heads; one d_v that no power-of-two tile divides; GVA
    // (value heads sharing a q/k head) across a batch of 2, in a group of 3, and of 2.
    const cases: [number, 'strong' | 'weak', number, number, Record<string, number>][] = [
      [1, 'strong', 2, 2, { qkHeads: 1 }],
      [63, 'weak', 1, 3, { qkHeads: 1 }],
      [64, 'strong', 2, 1, {}],
      [65, 'weak', 1, 2, { qkHeads: 1 }],
      [17, 'weak', 1, 1, { dv: oddDv }],
      [257, 'strong', 1, 1, {}],
    ];
    const shapes: LinearShape[] = [];
    for (const rule of ['gla', 'delta'])
      for (const [seqK, decay, batch, heads, over] of cases) {
        shapes.push(linearProblem.resolve({ ...base, ...over, seqK, decay, batch, heads, rule }));
      }
    return shapes;
  },
};

/** Element values of an input as f32 (f16 bits decoded), for tests and references. */
export function inputValues(inputs: HostTensors, name: string): Float32Array {
  const data = inputs[name]!;
  return data instanceof Uint16Array ? fromHalfArray(data) : (data as Float32Array);
}
