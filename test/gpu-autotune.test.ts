import { beforeAll, describe, expect, it } from 'vitest';
import { type AttentionDevice, ShapeFixture, autotune, benchmark, getKernel, neighboursOf, tileSpace } from '../src/index.js';
import { denseProblem } from '../src/attention/dense/problem.js';
import { sharedDevice } from './helpers/gpu.js';

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

const shape = { batch: 1, heads: 2, kvHeads: 1, seqQ: 40, seqK: 72, headDim: 32, causal: true };

describe('autotune', () => {
  it('measures every runnable configuration when exhaustive, and returns the fastest that passes the check', async () => {
    const naive = getKernel('naive');
    const [tuning] = await autotune(gpu, shape, { kernels: ['naive'], exhaustive: true, searchSamples: 1, finalSamples: 3, warmupMs: 0 });
    const runnable = tileSpace(naive).filter((t) => naive.check({ ...shape, scale: 1 / Math.sqrt(32) }, t, gpu.caps).length === 0);
    expect(tuning!.runnable).toBe(runnable.length);
    expect(tuning!.measured).toBe(runnable.length);
    expect(tuning!.table).toHaveLength(runnable.length);
    const times = tuning!.table.map((r) => r.medianMs!);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(tuning!.table.every((r) => r.tag === 'autotune-search' && r.check === null)).toBe(true);
    expect(tuning!.finalists).toHaveLength(3);
    expect(tuning!.bestRecord?.check?.ok).toBe(true);
    expect(tuning!.bestRecord?.tag).toBe('autotune-final');
    expect(tuning!.best).toEqual(tuning!.bestRecord!.tiles);
  });

  it('stays within its configuration cap on a space larger than it, starting from the default', async () => {
    const fixture = await ShapeFixture.create(gpu, denseProblem, shape);
    try {
      const seen: string[] = [];
      const [tuning] = await autotune(gpu, shape, {
        kernels: ['flash'],
        maxConfigs: 3,
        // Three SwiftShader compiles can take long on a loaded CI machine: the cap under test is
        // the configuration count, not time.
        timeBudgetMs: 600_000,
        searchSamples: 1,
        finalists: 1,
        finalSamples: 2,
        warmupMs: 0,
        fixture,
        onProgress: ({ record }) => seen.push(JSON.stringify(record.tiles)),
      });
      expect(tuning!.runnable).toBeGreaterThan(3);
      expect(tuning!.measured).toBe(3);
      expect(seen[0]).toBe(JSON.stringify(getKernel('flash').defaultTiles(fixture.shape, gpu.caps)));
      expect(tuning!.bestRecord?.check?.ok).toBe(true);
      // The fixture's buffers survive the search for further use.
      const again = await benchmark(gpu, { kernel: 'naive', shape, fixture, samples: 1, warmup: 0 });
      expect(again.check?.ok).toBe(true);
    } finally {
      fixture.destroy();
    }
  });

  it('steps one tunable at a time to neighbours', () => {
    const flash = getKernel('flash');
    const n = neighboursOf(flash, { br: 4, bc: 32, wg: 64, rowThreads: 4, subgroups: 0, prefetch: 1 });
    expect(n).toContainEqual({ br: 8, bc: 32, wg: 64, rowThreads: 4, subgroups: 0, prefetch: 1 });
    expect(n).toContainEqual({ br: 4, bc: 16, wg: 64, rowThreads: 4, subgroups: 0, prefetch: 1 });
    expect(n).toContainEqual({ br: 4, bc: 32, wg: 64, rowThreads: 4, subgroups: 1, prefetch: 1 });
    expect(n).toContainEqual({ br: 4, bc: 32, wg: 64, rowThreads: 4, subgroups: 0, prefetch: 0 });
    expect(n).toHaveLength(1 + 2 + 2 + 2 + 1 + 1);
    expect(neighboursOf(flash, { br: 4, prefetch: 1 })).toEqual([
      { br: 8, prefetch: 1 },
      { br: 4, prefetch: 0 },
    ]);
  });
});
