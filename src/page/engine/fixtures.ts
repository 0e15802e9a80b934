import type { AttentionDevice } from '../../gpu/device.js';
import { ShapeFixture } from '../../harness/fixture.js';
import type { Problem } from '../../attention/types.js';
import { shapeKey } from '../../attention/fields.js';
import { tensorBytes } from '../../gpu/tensors.js';

/** GPU memory the cached inputs of past shapes may keep (the current shape is always kept). */
const DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024;

interface Entry {
  fixture: Promise<ShapeFixture>;
  bytes: number;
  lastUse: number;
}

/**
 * Inputs, GPU buffers and reference output per shape, kept across jobs: a live tile edit re-runs
 * one kernel on shapes the last Run already uploaded and checked, so it pays neither the upload nor
 * the CPU reference again. Least recently used shapes are freed beyond a memory budget.
 */
export class FixtureCache {
  private entries = new Map<string, Entry>();
  private device: AttentionDevice | undefined;
  private clock = 0;

  constructor(private readonly budgetBytes = DEFAULT_BUDGET_BYTES) {}

  get(gpu: AttentionDevice, problem: Problem<any>, shape: object, seed: number): Promise<ShapeFixture> {
    // Buffers belong to one device: a new device (after a loss) starts from nothing.
    if (gpu !== this.device) {
      this.clear();
      this.device = gpu;
    }
    const key = `${problem.family}|${shapeKey(problem.fields, shape)}|${seed}`;
    let entry = this.entries.get(key);
    if (!entry) {
      // The tensors, and a read-back copy of each output.
      const bytes = problem.tensors(shape).reduce((sum, t) => sum + tensorBytes(t) * (t.role === 'output' || t.role === 'state' ? 2 : 1), 0);
      entry = { fixture: ShapeFixture.create(gpu, problem, shape, seed), bytes, lastUse: 0 };
      this.entries.set(key, entry);
      entry.fixture.catch(() => this.entries.delete(key));
    }
    entry.lastUse = ++this.clock;
    this.evict(key);
    return entry.fixture;
  }

  clear(): void {
    for (const entry of this.entries.values())
      entry.fixture.then(
        (f) => f.destroy(),
        () => undefined,
      );
    this.entries.clear();
  }

  private evict(keep: string): void {
    let total = [...this.entries.values()].reduce((s, e) => s + e.bytes, 0);
    const byAge = [...this.entries.entries()].filter(([k]) => k !== keep).sort((a, b) => a[1].lastUse - b[1].lastUse);
    for (const [key, entry] of byAge) {
      if (total <= this.budgetBytes) break;
      this.entries.delete(key);
      total -= entry.bytes;
      entry.fixture.then(
        (f) => f.destroy(),
        () => undefined,
      );
    }
  }
}
