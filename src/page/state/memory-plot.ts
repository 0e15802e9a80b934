import { getKernel } from '../../attention/registry.js';
import type { DeviceCaps } from '../../gpu/caps.js';
import { tensorBytes } from '../../gpu/tensors.js';
import { type PageConfig, axisField, effectiveTiles, problemOf, shapeAt, shapeProblem } from './config.js';

/*
 * Memory against the swept length, past the configured lengths up to where the device's buffer
 * limits bite: the table beside it lists the configured lengths only, which hides the N at which
 * naive attention's N² scores stop fitting in one buffer.
 */

/** Plotted lengths at most: doublings from the shortest configured one. */
const MAX_POINTS = 20;

export interface BufferLimit {
  /** The WebGPU limit that binds first: one buffer must fit both it and maxBufferSize. */
  name: 'maxStorageBufferBindingSize' | 'maxBufferSize';
  bytes: number;
}

export interface MemoryCurve {
  kernel: string;
  /** The problem's tensors plus the kernel's scratch at each n, null where the shape cannot be made. */
  totals: (number | null)[];
  /** The first length at which one of its buffers passes the limit, and which; null when none up to the field's maximum does. */
  stopsAt: { n: number; buffer: string; bytes: number } | null;
}

export interface MemoryPlot {
  ns: number[];
  curves: MemoryCurve[];
  limit: BufferLimit;
  /** The longest length the swept field allows. */
  maxN: number;
}

interface Buffer {
  name: string;
  bytes: number;
}

/** Every buffer one kernel allocates at length n (the problem's tensors and its scratch), or null when that shape cannot be made. */
export function buffersAt(config: PageConfig, caps: DeviceCaps, kernelName: string, n: number): Buffer[] | null {
  try {
    const shape = shapeAt(config, n);
    const kernel = getKernel(kernelName);
    const tensors = problemOf(config)
      .tensors(shape)
      .map((t) => ({ name: t.name.toUpperCase(), bytes: tensorBytes(t) }));
    return [...tensors, ...kernel.scratch(shape, effectiveTiles(kernel, config, caps, shape))];
  } catch {
    return null;
  }
}

export function bufferLimit(caps: DeviceCaps): BufferLimit {
  const { maxStorageBufferBindingSize: binding, maxBufferSize: size } = caps.limits;
  return binding <= size ? { name: 'maxStorageBufferBindingSize', bytes: binding } : { name: 'maxBufferSize', bytes: size };
}

/** The smallest n in lo..hi whose largest buffer passes the limit (buffers grow with n), or null. */
export function firstOver(largest: (n: number) => number, limit: number, lo: number, hi: number): number | null {
  if (largest(hi) <= limit) return null;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (largest(mid) > limit) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Each selected kernel's total allocation against the swept length, and where each stops fitting the device's buffer limit. */
export function memoryPlot(config: PageConfig, caps: DeviceCaps): MemoryPlot | null {
  if (shapeProblem(config) || config.seqs.length === 0) return null;
  const field = axisField(problemOf(config));
  const maxN = field.kind === 'int' ? field.max : 1 << 20;
  const limit = bufferLimit(caps);
  const largestAt = (kernel: string) => (n: number) => Math.max(0, ...(buffersAt(config, caps, kernel, n) ?? []).map((b) => b.bytes));
  const start = Math.min(...config.seqs);
  const partial = config.kernels.map((kernel) => {
    const n = firstOver(largestAt(kernel), limit.bytes, 1, maxN);
    const over = n === null ? undefined : buffersAt(config, caps, kernel, n)!.find((b) => b.bytes > limit.bytes)!;
    return { kernel, stopsAt: n === null || !over ? null : { n, buffer: over.name, bytes: over.bytes } };
  });
  // Doublings from the shortest configured length to the first at or past the last crossing, and
  // at least two past the longest configured one, so a kernel that never crosses still shows its slope.
  const crossings = partial.flatMap((c) => (c.stopsAt ? [c.stopsAt.n] : []));
  const last = Math.max(4 * Math.max(...config.seqs), ...crossings);
  const ns: number[] = [];
  for (let n = start; ns.length < MAX_POINTS && n <= maxN; n *= 2) {
    ns.push(n);
    if (n >= last) break;
  }
  const all = [...new Set([...ns, ...config.seqs])].sort((a, b) => a - b);
  const curves = partial.map((c) => ({
    ...c,
    totals: all.map((n) => {
      const buffers = buffersAt(config, caps, c.kernel, n);
      return buffers === null ? null : buffers.reduce((s, b) => s + b.bytes, 0);
    }),
  }));
  return { ns: all, curves, limit, maxN };
}
