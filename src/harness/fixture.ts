import { AttentionSession } from '../gpu/session.js';
import type { AttentionDevice } from '../gpu/device.js';
import { type AttentionInputs, randomInputs } from '../attention/dense/inputs.js';
import { referenceAttention, referenceSampleRows } from '../attention/dense/reference.js';
import { type AttentionShape, type ResolvedShape, resolveShape } from '../attention/dense/shape.js';

/** Computes reference rows (all when rows is undefined); the page passes one that runs in a worker. */
export type ReferenceFn = (inputs: AttentionInputs, rows: number[] | undefined) => Promise<Float64Array> | Float64Array;

/**
 * Everything about one shape that does not depend on the kernel: the seeded inputs, their GPU
 * buffers and the reference output. Built once and shared by every kernel and tile configuration
 * benchmarked on that shape (a sweep, the autotuner, the page), so inputs are generated, uploaded
 * and checked against the CPU reference once per shape rather than once per configuration.
 */
export class ShapeFixture {
  private readonly expected = new Map<string, Promise<{ rows: number[] | undefined; values: Float64Array }>>();

  private constructor(
    readonly shape: ResolvedShape,
    readonly seed: number,
    readonly inputs: AttentionInputs,
    readonly session: AttentionSession,
  ) {}

  static async create(gpu: AttentionDevice, shape: AttentionShape, seed = 1): Promise<ShapeFixture> {
    const resolved = resolveShape(shape);
    const inputs = randomInputs(resolved, seed);
    const session = await AttentionSession.create(gpu, resolved);
    session.upload(inputs);
    return new ShapeFixture(resolved, seed, inputs, session);
  }

  /** Whether this fixture serves a benchmark of `shape` with `seed`. */
  matches(shape: AttentionShape, seed: number): boolean {
    const s = resolveShape(shape);
    const f = this.shape;
    return (
      seed === this.seed &&
      s.batch === f.batch && s.heads === f.heads && s.kvHeads === f.kvHeads && s.seqQ === f.seqQ &&
      s.seqK === f.seqK && s.headDim === f.headDim && s.causal === f.causal && s.scale === f.scale
    );
  }

  /**
   * Reference rows to compare with: all of them when the budget allows, else a fixed sample
   * (referenceSampleRows). Computed once per budget and reference function.
   */
  reference(budgetMacs: number | undefined, fn: ReferenceFn = referenceAttention): Promise<{ rows: number[] | undefined; values: Float64Array }> {
    const key = `${budgetMacs ?? 'default'}|${fn === referenceAttention ? 'cpu' : 'custom'}`;
    let entry = this.expected.get(key);
    if (!entry) {
      const rows = referenceSampleRows(this.inputs, budgetMacs);
      entry = Promise.resolve(fn(this.inputs, rows)).then((values) => ({ rows, values }));
      entry.catch(() => this.expected.delete(key));
      this.expected.set(key, entry);
    }
    return entry;
  }

  destroy(): void {
    this.session.destroy();
  }
}
