import type { Expected, HostTensors, Problem, RawShape } from '../attention/types.js';
import { shapeKey } from '../attention/fields.js';
import type { AttentionDevice } from '../gpu/device.js';
import { TensorSession } from '../gpu/tensors.js';

/** Multiply-adds the reference may spend before it samples rows instead. */
export const DEFAULT_REFERENCE_BUDGET = 64e6;

/** Computes the reference (e.g. in a Web Worker on the page); default: the problem's, on this thread. */
export type ReferenceFn = (problem: Problem<any>, shape: object, inputs: HostTensors, budget: number) => Promise<Expected> | Expected;

const onThisThread: ReferenceFn = (problem, shape, inputs, budget) => problem.reference(shape, inputs, budget);

/**
 * Everything about one shape that does not depend on the kernel: the seeded inputs, their GPU
 * buffers and the reference. Built once and shared by every kernel and tile configuration
 * benchmarked on that shape (a sweep, the autotuner, the page), so inputs are generated, uploaded
 * and checked against the CPU reference once per shape rather than once per configuration.
 */
export class ShapeFixture<S extends object = any> {
  private readonly expected = new Map<string, Promise<Expected>>();

  private constructor(
    readonly problem: Problem<S>,
    readonly shape: S,
    readonly seed: number,
    readonly inputs: HostTensors,
    readonly session: TensorSession,
  ) {}

  static async create<S extends object>(gpu: AttentionDevice, problem: Problem<S>, shape: RawShape | S, seed = 1): Promise<ShapeFixture<S>> {
    return ShapeFixture.createResolved(gpu, problem, problem.resolve(shape as RawShape), seed);
  }

  /** create() for a shape the problem has already resolved. */
  static async createResolved<S extends object>(gpu: AttentionDevice, problem: Problem<S>, resolved: S, seed = 1): Promise<ShapeFixture<S>> {
    const inputs = problem.inputs(resolved, seed);
    problem.validate(resolved, inputs);
    const session = await TensorSession.create(gpu, problem.tensors(resolved));
    session.upload(inputs);
    return new ShapeFixture(problem, resolved, seed, inputs, session);
  }

  /** Whether this fixture serves a benchmark of `shape` (of `problem`) with `seed`. */
  matches(problem: Problem<any>, shape: RawShape | object, seed: number): boolean {
    return this.matchesResolved(problem, problem.resolve(shape as RawShape), seed);
  }

  /** matches() for a resolved shape. */
  matchesResolved(problem: Problem<any>, resolved: object, seed: number): boolean {
    return problem === this.problem && seed === this.seed && shapeKey(problem.fields, resolved) === shapeKey(problem.fields, this.shape);
  }

  /** Puts the inputs and states back (a kernel that updates a state in place changes them). */
  restore(): void {
    this.session.upload(this.inputs);
  }

  /** The reference: everything when the budget allows, else a fixed sample of rows. Computed once per budget and function. */
  reference(budget = DEFAULT_REFERENCE_BUDGET, fn: ReferenceFn = onThisThread): Promise<Expected> {
    const key = `${budget}|${fn === onThisThread ? 'cpu' : 'custom'}`;
    let entry = this.expected.get(key);
    if (!entry) {
      entry = Promise.resolve(fn(this.problem, this.shape, this.inputs, budget));
      entry.catch(() => this.expected.delete(key));
      this.expected.set(key, entry);
    }
    return entry;
  }

  destroy(): void {
    this.session.destroy();
  }
}
