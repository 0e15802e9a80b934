import { gcdBig } from '../harness/stats.js';
import type { BoundKernel } from '../attention/types.js';
import type { AttentionDevice } from './device.js';
import { guarded } from './session.js';
import { withTimeout } from './timeout.js';

/**
 * How a time was measured:
 * - timestamp: GPU timestamp queries at the beginning and end of a compute pass;
 * - timestamp-coarse: the same, but the implementation rounds timestamps (Chrome does, to 100 µs,
 *   unless WebGPU developer features are on), so each pair spans many dispatches;
 * - wall: no timestamps; host clock around submit and onSubmittedWorkDone, which adds submission
 *   latency to every sample.
 */
export type TimingMethod = 'timestamp' | 'timestamp-coarse' | 'wall';

/** One timed sample: `dispatches` back-to-back runs of the kernel. */
export interface Sample {
  /** Time of the whole sample in nanoseconds. */
  ns: number;
  /** Raw timestamps (begin, end), when measured with queries. */
  raw?: [bigint, bigint];
}

/** Timestamps rounded to at least this (1 µs) count as coarse. */
const COARSE_NS = 1000n;

/** Samples whose timestamps one query set holds (WebGPU caps a query set at 4096 queries). */
export const MAX_SAMPLES_PER_QUERY_SET = 2048;

export class GpuTimer {
  constructor(private readonly gpu: AttentionDevice) {}

  get hasTimestamps(): boolean {
    return this.gpu.caps.features.includes('timestamp-query');
  }

  /**
   * Records `samples` compute passes, each with `dispatches` copies of the kernel, in one command
   * buffer, with a timestamp pair around each pass. Dispatches in one pass are ordered (each
   * sees the previous one's writes), as in a real model's layer after layer.
   */
  async timestamps(kernel: BoundKernel, samples: number, dispatches: number, timeoutMs: number): Promise<Sample[]> {
    // A query set holds at most 4096 timestamps (two per sample): more samples go in batches.
    if (samples > MAX_SAMPLES_PER_QUERY_SET) {
      const out: Sample[] = [];
      for (let done = 0; done < samples; done += MAX_SAMPLES_PER_QUERY_SET) {
        out.push(...(await this.timestamps(kernel, Math.min(MAX_SAMPLES_PER_QUERY_SET, samples - done), dispatches, timeoutMs)));
      }
      return out;
    }
    const { device } = this.gpu;
    const count = 2 * samples;
    const querySet = device.createQuerySet({ type: 'timestamp', count });
    const resolve = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      await guarded(this.gpu, 'the timed dispatches', () => {
        const encoder = device.createCommandEncoder({ label: 'timed samples' });
        for (let s = 0; s < samples; s++) {
          const pass = encoder.beginComputePass({
            label: `sample ${s}`,
            timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * s, endOfPassWriteIndex: 2 * s + 1 },
          });
          for (let r = 0; r < dispatches; r++) kernel.encode(pass);
          pass.end();
        }
        encoder.resolveQuerySet(querySet, 0, count, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
        device.queue.submit([encoder.finish()]);
      });
      await withTimeout(read.mapAsync(GPUMapMode.READ), timeoutMs, 'the timed dispatches');
      const values = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      const out: Sample[] = [];
      for (let s = 0; s < samples; s++) {
        const begin = values[2 * s]!;
        const end = values[2 * s + 1]!;
        out.push({ ns: Number(end - begin), raw: [begin, end] });
      }
      return out;
    } finally {
      querySet.destroy();
      resolve.destroy();
      read.destroy();
    }
  }

  /** Host-clock samples: each submits `dispatches` runs and waits for the queue to drain. */
  async wall(kernel: BoundKernel, samples: number, dispatches: number, timeoutMs: number): Promise<Sample[]> {
    const { device } = this.gpu;
    const out: Sample[] = [];
    for (let s = 0; s < samples; s++) {
      const start = performance.now();
      await guarded(this.gpu, 'the timed dispatches', () => {
        const encoder = device.createCommandEncoder({ label: `wall sample ${s}` });
        const pass = encoder.beginComputePass();
        for (let r = 0; r < dispatches; r++) kernel.encode(pass);
        pass.end();
        device.queue.submit([encoder.finish()]);
      });
      await withTimeout(device.queue.onSubmittedWorkDone(), timeoutMs, 'the timed dispatches');
      out.push({ ns: (performance.now() - start) * 1e6 });
    }
    return out;
  }
}

/**
 * The rounding step of timestamps, from raw values: the greatest common divisor of all of them
 * and of their differences. Fine-grained clocks give a small number (1 on most GPUs); Chrome's
 * rounding gives 100000 (ns). Returns 0 when nothing was measured.
 */
export function timestampQuantumNs(samples: readonly Sample[]): number {
  const raw = samples.flatMap((s) => (s.raw ? [s.raw[0], s.raw[1]] : []));
  if (raw.length === 0) return 0;
  const diffs = raw.slice(1).map((v, i) => v - raw[i]!);
  return Number(gcdBig([...raw, ...diffs]));
}

export function isCoarse(quantumNs: number): boolean {
  return BigInt(Math.round(quantumNs)) >= COARSE_NS;
}
