/**
 * Warming a GPU up until its speed settles.
 *
 * GPUs drop their clocks when idle and take tens of milliseconds (sometimes far longer) to come
 * back. A fixed warm-up is not enough: on the H200, a case timed right after its pipelines compiled
 * measured 1.28 ms with a tight p20–p80 band, against 0.263 ms for the same tiles in another run,
 * a GPU left at idle clocks through warm-up and sampling. So the warm-up runs windows of back-to-
 * back dispatches, each long enough that submission overhead does not matter, until two consecutive
 * windows agree on the time per dispatch, and the record says when that never happened.
 */

export interface WarmupOptions {
  /** Least warm-up, in ms, even when the first windows agree (default 150). */
  minMs?: number;
  /** Most warm-up, in ms: past it the timing is reported as not settled (default 3000). */
  maxMs?: number;
  /** Two consecutive windows agree when their per-dispatch times differ by at most this fraction (default 0.02). */
  tolerance?: number;
  /** Each window grows until it takes at least this long, in ms (default 20). */
  windowMs?: number;
  /** Most dispatches in one window (default 4096). */
  maxDispatches?: number;
}

export interface WarmupResult {
  settled: boolean;
  /** Time spent in windows, in ms. */
  spentMs: number;
  windows: number;
  /** Per-dispatch time of the last window, in ms. */
  perDispatchMs: number;
}

/**
 * Runs windows until the time per dispatch settles. `runWindow(n)` submits n dispatches back to
 * back, waits for them and returns the elapsed ms (a host or GPU clock: the caller chooses).
 */
export async function warmUntilSettled(runWindow: (dispatches: number) => Promise<number>, options: WarmupOptions = {}): Promise<WarmupResult> {
  const minMs = options.minMs ?? 150;
  const maxMs = Math.max(minMs, options.maxMs ?? 3000);
  const tolerance = options.tolerance ?? 0.02;
  const windowMs = options.windowMs ?? 20;
  const maxDispatches = options.maxDispatches ?? 4096;
  let dispatches = 1;
  let spentMs = 0;
  let windows = 0;
  let previous: number | null = null;
  let perDispatchMs = Number.NaN;
  for (;;) {
    const ms = await runWindow(dispatches);
    spentMs += Math.max(0, ms);
    windows++;
    perDispatchMs = ms / dispatches;
    const fullWindow = ms >= windowMs || dispatches >= maxDispatches;
    if (fullWindow && previous !== null && Math.abs(perDispatchMs - previous) <= tolerance * previous && spentMs >= minMs) {
      return { settled: true, spentMs, windows, perDispatchMs };
    }
    if (spentMs >= maxMs) return { settled: false, spentMs, windows, perDispatchMs };
    if (fullWindow) previous = perDispatchMs;
    else {
      // Too short to time well: grow toward the window length (at least doubling).
      const want = perDispatchMs > 0 ? Math.ceil(windowMs / perDispatchMs) : dispatches * 2;
      dispatches = Math.min(maxDispatches, Math.max(dispatches * 2, want));
      previous = null;
    }
  }
}
