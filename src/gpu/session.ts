import { GpuError } from '../errors.js';
import { type AttentionDevice, assertUsable } from './device.js';

const SCOPES: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Runs `fn` inside validation, out-of-memory and internal error scopes and throws the first error
 * the GPU reports, so a failure surfaces at the call that caused it and the device stays usable.
 */
export async function guarded<T>(gpu: AttentionDevice, what: string, fn: () => T | Promise<T>): Promise<T> {
  assertUsable(gpu);
  const { device } = gpu;
  for (const filter of SCOPES) device.pushErrorScope(filter);
  let result: T | undefined;
  let thrown: unknown;
  try {
    result = await fn();
  } catch (error) {
    thrown = error;
  }
  const errors: GPUError[] = [];
  for (let i = 0; i < SCOPES.length; i++) {
    const error = await device.popErrorScope();
    if (error) errors.push(error);
  }
  if (thrown) throw thrown;
  if (errors.length > 0) {
    const kinds = errors.map((e) => `${e.constructor.name}: ${e.message}`).join('\n');
    throw new GpuError(`${what} failed on the GPU:\n${kinds}`);
  }
  assertUsable(gpu);
  return result as T;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export { GpuError };
