// Bad input is refused before any dispatch with a message naming the value and the limit, and
// the device stays usable; GPU-side failures surface as errors, never as hangs.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AttentionDevice,
  AttentionInputError,
  ConfigError,
  GpuError,
  GpuTimeoutError,
  TileError,
  benchmark,
  compareOutputs,
  createDevice,
  parseResultsFile,
  randomInputs,
  referenceAttention,
  resultsContext,
  makeResultsFile,
  runAttention,
} from '../src/index.js';
import { compilePipeline } from '../src/gpu/pipelines.js';
import { withTimeout } from '../src/gpu/timeout.js';
import { sharedDevice } from './helpers/gpu.js';

let gpu: AttentionDevice;
beforeAll(async () => {
  gpu = await sharedDevice();
});

const small = { batch: 1, heads: 2, kvHeads: 1, seqQ: 9, seqK: 12, headDim: 32, causal: true };

/** After every refusal, a normal run on the same device must still be right. */
afterEach(async () => {
  if (gpu.lostInfo) return;
  const inputs = randomInputs(small, 99);
  const result = await runAttention(gpu, inputs, { kernel: 'flash' });
  expect(compareOutputs(result.output, referenceAttention(inputs), { atol: 1e-4, rtol: 1e-3 }).ok).toBe(true);
  expect(gpu.uncapturedErrors).toEqual([]);
});

describe('refused before dispatch', () => {
  it('mismatched array lengths', async () => {
    const inputs = randomInputs(small, 1);
    await expect(runAttention(gpu, { ...inputs, v: inputs.v.subarray(1) }, { kernel: 'naive' })).rejects.toThrow(
      /v has 383 elements but the shape needs batch·kvHeads·seqK·headDim = 384/,
    );
  });

  it('zero and negative sizes', async () => {
    const inputs = randomInputs(small, 1);
    await expect(runAttention(gpu, { ...inputs, seqQ: 0 }, { kernel: 'flash' })).rejects.toThrow(/seqQ must be a whole number from 1 to \d+, got 0/);
    await expect(runAttention(gpu, { ...inputs, headDim: -32 }, { kernel: 'flash' })).rejects.toThrow(AttentionInputError);
  });

  it('heads not divisible by kvHeads', async () => {
    const inputs = randomInputs({ ...small, heads: 3, kvHeads: 2 }, 1);
    await expect(runAttention(gpu, inputs, { kernel: 'flash' })).rejects.toThrow(/heads \(3\) must be divisible by kvHeads \(2\)/);
  });

  it('unknown kernel names', async () => {
    await expect(runAttention(gpu, randomInputs(small, 1), { kernel: 'turbo' })).rejects.toThrow(/unknown kernel "turbo"; known kernels: naive, flash/);
  });

  it('tile values outside the list, and unknown tile names', async () => {
    await expect(runAttention(gpu, randomInputs(small, 1), { kernel: 'flash', tiles: { br: 3 } })).rejects.toThrow(TileError);
    await expect(runAttention(gpu, randomInputs(small, 1), { kernel: 'naive', tiles: { br: 32 } })).rejects.toThrow(/naive has no tile parameter "br"/);
  });

  it('a tile value that is not a number says so, instead of listing the allowed values', async () => {
    const error = await runAttention(gpu, randomInputs(small, 1), { kernel: 'flash', tiles: { br: '32' as unknown as number } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TileError);
    expect((error as Error).message).toMatch(/flash Query tile \(Br\) \(br\) must be a number, got "32"/);
  });

  it('measurement settings out of range (no samples, too many), before any work', async () => {
    await expect(benchmark(gpu, { kernel: 'flash', shape: small, samples: 0 })).rejects.toThrow(
      /benchmark: samples must be a whole number from 1 to 100000, got 0/,
    );
    await expect(benchmark(gpu, { kernel: 'flash', shape: small, warmup: -1 })).rejects.toThrow(/warmup must be a whole number from 0/);
    await expect(benchmark(gpu, { kernel: 'flash', shape: small, samples: 2.5 })).rejects.toThrow(AttentionInputError);
  });

  it('tiles over the workgroup storage limit, naming it and the numbers', async () => {
    const limit = gpu.caps.limits.maxComputeWorkgroupStorageSize;
    const error = await runAttention(gpu, randomInputs({ ...small, headDim: 128 }, 1), {
      kernel: 'flash',
      tiles: { br: 128, bc: 128, wg: 256, rowThreads: 32, subgroups: 0 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).limit).toBe('maxComputeWorkgroupStorageSize');
    expect((error as ConfigError).available).toBe(limit);
    expect((error as Error).message).toMatch(new RegExp(`needs \\d+ bytes \\(\\d+\\.\\d KiB\\) but maxComputeWorkgroupStorageSize is ${limit} bytes`));
  });

  it('tiles over the invocation limit', async () => {
    const max = gpu.caps.limits.maxComputeInvocationsPerWorkgroup;
    await expect(
      runAttention(gpu, randomInputs(small, 1), { kernel: 'flash', tiles: { br: 128, bc: 8, wg: 1024, rowThreads: 8, subgroups: 0 } }),
    ).rejects.toThrow(new RegExp(`Workgroup size 1024 needs 1024 but maxComputeInvocationsPerWorkgroup is ${max}`));
  });

  it('naive S and P over the maximum binding size', async () => {
    const max = gpu.caps.limits.maxStorageBufferBindingSize;
    // One head, d = 4: the tensors are tiny, but seqQ·seqK·4 bytes is over the limit.
    const n = Math.ceil(Math.sqrt(max / 4)) + 1;
    const shape = { batch: 1, heads: 1, kvHeads: 1, seqQ: n, seqK: n, headDim: 4, causal: false };
    await expect(runAttention(gpu, randomInputs(shape, 1), { kernel: 'naive' })).rejects.toThrow(
      /the S and P buffers \(B·H·Nq·Nk·4\) needs \d+ bytes .* but maxStorageBufferBindingSize is \d+ bytes/,
    );
  });

  it('NaN and infinite inputs, with the tensor and index', async () => {
    const inputs = randomInputs(small, 1);
    inputs.k[17] = Number.NaN;
    await expect(runAttention(gpu, inputs, { kernel: 'flash' })).rejects.toThrow(/k\[17\] is NaN/);
    inputs.k[17] = 0;
    inputs.q[3] = Number.NEGATIVE_INFINITY;
    await expect(runAttention(gpu, inputs, { kernel: 'naive' })).rejects.toThrow(/q\[3\] is -Infinity/);
  });
});

describe('benchmark', () => {
  it('reports a configuration the device cannot run as skipped, with the reason, and goes on', async () => {
    const n = Math.ceil(Math.sqrt(gpu.caps.limits.maxStorageBufferBindingSize / 4)) + 1;
    const record = await benchmark(gpu, { kernel: 'naive', shape: { batch: 1, heads: 1, kvHeads: 1, seqQ: n, seqK: n, headDim: 4, causal: false } });
    expect(record.status).toBe('skipped');
    expect(record.reason).toMatch(/maxStorageBufferBindingSize/);
    expect(record.medianMs).toBeNull();
    // What it would have allocated still comes from the kernel's model.
    expect(record.scratchBytes).toBe(2 * n * n * 4);
  });

  it('times, checks and describes a run in a record that validates against the schema', async () => {
    const record = await benchmark(gpu, { kernel: 'flash', shape: { ...small, seqQ: 64, seqK: 64 }, samples: 3, warmup: 1 });
    expect(record.status).toBe('ok');
    expect(record.check?.ok).toBe(true);
    expect(record.check?.rows).toBe('all');
    expect(record.timing?.samples).toBe(3);
    expect(record.medianMs).toBeGreaterThan(0);
    expect(record.p20Ms!).toBeLessThanOrEqual(record.medianMs!);
    expect(record.p80Ms!).toBeGreaterThanOrEqual(record.medianMs!);
    expect(record.tflops).toBeCloseTo(record.flops / (record.medianMs! * 1e-3) / 1e12, 9);
    expect(['timestamp', 'timestamp-coarse', 'wall']).toContain(record.timing?.method);
    const file = makeResultsFile(resultsContext(gpu), [record]);
    expect(parseResultsFile(JSON.stringify(file)).results[0]).toEqual(record);
    expect(file.context.adapter.software).toBe(true);
  });

  it('times each stage of a multi-pass kernel alone, named as the kernel names them', async () => {
    const record = await benchmark(gpu, {
      kernel: 'linear-chunked',
      shape: { batch: 1, heads: 2, seqK: 40, dk: 8, dv: 8 },
      // Chunks of 8 without prefetch: the smallest shaders, quick for SwiftShader to compile.
      tiles: { chunk: 8, prefetch: 0 },
      samples: 3,
      warmup: 1,
    });
    expect(record.status).toBe('ok');
    if (record.timing?.method === 'wall') {
      // Stages are timed with timestamps only: without them the record must not claim stage times.
      expect(record.stages).toBeUndefined();
      return;
    }
    expect(record.stages?.map((st) => st.name)).toEqual(['chunks', 'recurrence']);
    for (const st of record.stages!) expect(st.medianMs).toBeGreaterThan(0);
    expect(parseResultsFile(JSON.stringify(makeResultsFile(resultsContext(gpu), [record]))).results[0]).toEqual(record);
    // Single-pass kernels have none.
    const flash = await benchmark(gpu, { kernel: 'flash', shape: { ...small, seqQ: 16, seqK: 16 }, samples: 2, warmup: 1 });
    expect(flash.stages).toBeUndefined();
  });

  it('takes more timestamp samples than one query set holds (4096 queries), in batches', async () => {
    const record = await benchmark(gpu, { kernel: 'naive', shape: { ...small, seqQ: 4, seqK: 4 }, samples: 2049, warmup: 1, warmupMs: 0, budgetMs: 3_600_000 });
    expect(record.status, record.reason).toBe('ok');
    expect(record.timing?.method).not.toBe('wall');
    expect(record.timing?.samples).toBe(2049);
  });

  it('checks a sampled set of rows when the full reference would be too costly', async () => {
    // d = 32: flash's default pipeline there is the one this file's first run compiled (the d = 64
    // one takes SwiftShader seconds more, and gpu-kernels runs it on every conformance shape).
    const record = await benchmark(gpu, {
      kernel: 'flash',
      shape: { batch: 1, heads: 2, kvHeads: 2, seqQ: 200, seqK: 200, headDim: 32, causal: false },
      samples: 1,
      warmup: 0,
      referenceBudget: 200 * 2 * 32 * 10,
    });
    expect(record.check?.rows).toBe(10);
    expect(record.check?.ok).toBe(true);
  });
});

describe('GPU failures', () => {
  it('a shader that does not compile gives the compiler message with the line', async () => {
    const error = await compilePipeline(gpu.device, {
      label: 'broken',
      code: '@compute @workgroup_size(1)\nfn main() {\n  let x: u32 = 1.5;\n}',
      bindings: [],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as Error).message).toMatch(/broken: shader does not compile\n\s+line 3:\d+: .*\n\s+let x: u32 = 1.5;/);
  });

  it('no wait outlives its deadline', async () => {
    await expect(withTimeout(new Promise(() => {}), 50, 'a wait')).rejects.toThrow(GpuTimeoutError);
    await expect(withTimeout(new Promise(() => {}), 50, 'a wait')).rejects.toThrow(/a wait did not finish within 0.1 s/);
  });

  it('a lost device refuses new work with the loss reason, and a new device works', async () => {
    const doomed = await createDevice();
    doomed.destroy();
    await doomed.lost;
    await expect(runAttention(doomed, randomInputs(small, 1), { kernel: 'flash' })).rejects.toThrow(/the GPU device was lost \(destroyed/);
    const fresh = await createDevice();
    const inputs = randomInputs(small, 2);
    const result = await runAttention(fresh, inputs, { kernel: 'naive' });
    expect(compareOutputs(result.output, referenceAttention(inputs), { atol: 1e-4, rtol: 1e-3 }).ok).toBe(true);
    fresh.destroy();
  });
});
