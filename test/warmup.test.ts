// The warm-up rule on fake clocks: a GPU whose speed ramps up (idle clocks coming back) is warmed
// until two consecutive windows agree within 2%; one that never steadies is reported as unsettled.
import { describe, expect, it } from 'vitest';
import { warmUntilSettled } from '../src/harness/warmup.js';

/** A fake GPU: each dispatch takes `fast` ms once `rampMs` of work has run, up to `slowdown`× that before, decaying linearly. */
function rampingGpu(fast: number, slowdown: number, rampMs: number) {
  let worked = 0;
  return async (dispatches: number) => {
    let ms = 0;
    for (let i = 0; i < dispatches; i++) {
      const factor = worked >= rampMs ? 1 : slowdown - ((slowdown - 1) * worked) / rampMs;
      ms += fast * factor;
      worked += fast * factor;
    }
    return ms;
  };
}

describe('warm-up until settled', () => {
  it('keeps going through a clock ramp and stops once two windows agree', async () => {
    // The H200 case: 5× slow at first; a fixed 150 ms warm-up would have timed the slow part.
    const result = await warmUntilSettled(rampingGpu(0.263, 5, 600), { minMs: 150, maxMs: 5000 });
    expect(result.settled).toBe(true);
    expect(result.spentMs).toBeGreaterThan(600);
    expect(result.perDispatchMs).toBeCloseTo(0.263, 2);
  });

  it('stops at the minimum on a steady GPU', async () => {
    const result = await warmUntilSettled(rampingGpu(0.1, 1, 0), { minMs: 150, maxMs: 5000 });
    expect(result.settled).toBe(true);
    expect(result.spentMs).toBeGreaterThanOrEqual(150);
    expect(result.spentMs).toBeLessThan(400);
  });

  it('reports a speed that never settles, at the cap', async () => {
    let flip = false;
    const result = await warmUntilSettled(
      async (n) => {
        flip = !flip;
        return n * (flip ? 1 : 1.1);
      },
      { minMs: 150, maxMs: 1000 },
    );
    expect(result.settled).toBe(false);
    expect(result.spentMs).toBeGreaterThanOrEqual(1000);
  });

  it('grows short windows before it compares them (launch overhead does not count as a clock)', async () => {
    const sizes: number[] = [];
    await warmUntilSettled(
      async (n) => {
        sizes.push(n);
        return n * 0.01;
      },
      { minMs: 50, maxMs: 1000, windowMs: 20 },
    );
    expect(sizes[0]).toBe(1);
    expect(sizes[1]).toBeGreaterThanOrEqual(2000);
  });
});
