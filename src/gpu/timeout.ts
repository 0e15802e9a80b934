import { GpuTimeoutError } from '../errors.js';

/**
 * Races a GPU promise against a deadline so that no caller waits forever on a hung or lost
 * device. The GPU work itself cannot be cancelled; the caller gets an error and moves on.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GpuTimeoutError(`${what} did not finish within ${(ms / 1000).toFixed(1)} s`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
