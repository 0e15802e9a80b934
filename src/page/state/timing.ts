import { isCoarse } from '../../gpu/timer.js';
import { formatNs } from './format.js';

/**
 * What the device panel says about timing: whether the device has GPU timestamps and, once a run
 * has measured their rounding, whether they are coarse (Chrome rounds them to 100 µs unless its
 * WebGPU developer features are on) and what the harness does about it.
 */
export function timestampSummary(hasTimestamps: boolean, quantumNs: number | null): string {
  if (!hasTimestamps) {
    return 'No timestamp-query: samples are timed with the host clock around submit and onSubmittedWorkDone, which adds submission latency (method "wall").';
  }
  if (quantumNs === null) return 'GPU timestamps available. Their resolution is measured during the first run.';
  return isCoarse(quantumNs)
    ? `GPU timestamps available but coarse: they tick in ${formatNs(quantumNs)}, so each sample batches enough dispatches between one timestamp pair to span 50 ticks (method "timestamp-coarse").`
    : `GPU timestamps available, resolution ${formatNs(quantumNs)} (method "timestamp").`;
}
