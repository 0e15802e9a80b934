import type { ResultRecord } from '../../results/schema.js';
import { type PageConfig, inConfiguredFamily, problemOf, shapeAt } from './config.js';
import { PAGE_TAG, isTimed } from './results.js';

/**
 * Rates assumed before anything was measured on this device, in FLOP/s. SwiftShader reaches a few
 * GFLOP/s on attention here; a discrete GPU some TFLOP/s. They only order of magnitude a first
 * estimate; the first timed rows replace them.
 */
export const ASSUMED_RATE = { software: 3e9, hardware: 2e12 } as const;
/** Per case: pipeline compile (cached after the first), fixture upload, reference check, warm-up minimum. */
const CASE_OVERHEAD_S = { software: 1.5, hardware: 0.3 } as const;
/** The float64 CPU reference, in FLOP/s of the attention it checks (it samples rows past a budget). */
const REFERENCE_RATE = 1e9;
/** benchmark() stops timing a case after about this long (its default budgetMs). */
const TIMING_BUDGET_S = 10;
/** Runs of one case beyond the timed samples: the check, the warm-up calibration. */
const EXTRA_RUNS = 4;

export interface RunEstimate {
  cases: number;
  /** Seconds for the whole run. */
  seconds: number;
  /** Where the rate came from. */
  rateSource: 'measured' | 'assumed';
}

/**
 * The measured rate of a kernel on this device: the median FLOP/s of its timed Run rows, or of
 * every kernel's rows when it has none yet; null before anything was timed.
 */
export function measuredRate(results: readonly ResultRecord[], kernel: string): number | null {
  const timed = results.filter((r) => r.tag === PAGE_TAG && isTimed(r) && r.tflops !== null && r.tflops > 0);
  const own = timed.filter((r) => r.kernel === kernel);
  const rows = own.length > 0 ? own : timed;
  if (rows.length === 0) return null;
  const rates = rows.map((r) => r.tflops! * 1e12).sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

/**
 * How long Run would take: for each case, its FLOPs (the family's model) over the rate, times the
 * timed samples plus the check and warm-up runs (timing capped as benchmark() caps it), plus the
 * reference and a fixed per-case overhead. An order of magnitude, not a promise: said as "about".
 */
export function estimateRun(config: PageConfig, software: boolean, results: readonly ResultRecord[] = []): RunEstimate {
  const problem = problemOf(config);
  const device = software ? 'software' : 'hardware';
  const own = results.filter((r) => inConfiguredFamily(r, config) || r.family === config.family);
  let seconds = 0;
  let cases = 0;
  let measured = true;
  for (const kernel of config.kernels) {
    const rate = measuredRate(own, kernel);
    if (rate === null) measured = false;
    const flopsPerS = rate ?? ASSUMED_RATE[device];
    for (const seq of config.seqs) {
      let flops: number;
      try {
        flops = problem.flops(shapeAt(config, seq));
      } catch {
        continue;
      }
      const run = flops / flopsPerS;
      const timing = Math.min(config.samples * run, Math.max(TIMING_BUDGET_S, 3 * run));
      seconds += CASE_OVERHEAD_S[device] + EXTRA_RUNS * run + timing + flops / REFERENCE_RATE / config.kernels.length;
      cases++;
    }
  }
  return { cases, seconds, rateSource: measured && cases > 0 ? 'measured' : 'assumed' };
}

/** "about 12 s", "about 4 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return 'under a second';
  if (seconds < 90) return `about ${Math.round(seconds)} s`;
  if (seconds < 5400) return `about ${Math.round(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

/** A Run longer than this gets a warning beside the button before it starts. */
export const LONG_RUN_S = 60;
