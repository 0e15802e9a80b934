import { describe, expect, it } from 'vitest';
import { report } from '../bench/report-tables.js';
import { record } from './helpers/records.js';

const shape = (n: number, causal: boolean, d = 64) => ({ batch: 1, heads: 16, kvHeads: 16, seqQ: n, seqK: n, headDim: d, causal, scale: 0.125 });

describe('GPU report tables', () => {
  it("puts ours next to PyTorch, the f16 kernels next to f32 and PyTorch's f16, flash next to naive, causal next to not", () => {
    const rows = [
      record({
        kernel: 'flash',
        shape: shape(4096, false),
        medianMs: 4,
        tflops: 25,
        flops: 1e11,
        comparisons: [{ source: 'torch-sdpa', backend: 'EFFICIENT_ATTENTION', dtype: 'float32', ms: 3, relative: 0.75 }],
      }),
      record({
        kernel: 'flash-f16',
        precision: 'f16',
        shape: shape(4096, false),
        medianMs: 2,
        tflops: 50,
        comparisons: [{ source: 'torch-sdpa', backend: 'FLASH_ATTENTION', dtype: 'float16', ms: 0.5, relative: 0.25 }],
      }),
      record({
        kernel: 'flash-mma',
        precision: 'f16',
        shape: shape(4096, false),
        medianMs: 1,
        tflops: 100,
        flops: 1e11,
        comparisons: [
          { source: 'torch-sdpa', backend: 'FLASH_ATTENTION', dtype: 'float16', ms: 0.5, relative: 0.5 },
          { source: 'torch-sdpa', backend: 'EFFICIENT_ATTENTION', dtype: 'float16', ms: 0.8, relative: 0.8 },
        ],
      }),
      record({ kernel: 'flash', shape: shape(4096, true), medianMs: 2.1, tflops: 24 }),
      record({ kernel: 'naive', shape: shape(4096, false), medianMs: 100, scratchBytes: 2 * 2 ** 30 }),
      record({ kernel: 'naive', shape: shape(4096, true), status: 'skipped', reason: 'naive: the S and P buffers need more', medianMs: null, scratchBytes: 0 }),
      record({ kernel: 'flash', shape: shape(4096, false), tag: 'autotune-search' }),
    ];
    const text = report(rows, { maxStorageBufferBindingSize: 2 ** 29 });
    expect(text).toContain('| 64 | 4096 | no | 4.000 | 25.0 | 3.000 | 33.3 | 0.75× |');
    // PyTorch's f16 times come from the flash-mma row (the flash-f16 row's would be the same).
    expect(text).toContain('| 64 | 4096 | no | 2.000 | 50.0 | 2.00× | 1.000 | 100.0 | 4.00× | 0.500 | 200.0 | 0.50× | 0.800 | 0.80× |');
    // S and P come from the naive kernel's model (2 · 16 · 4096² · 4 bytes), skipped rows included.
    expect(text).toContain('| 64 | 4096 | no | 100.0 | 4.000 | 25.00× | 2.00 GiB |');
    expect(text).toContain('| 64 | 4096 | yes | – | 2.100 | cannot run: S and P need 1.0 GiB each, over maxStorageBufferBindingSize (0.5 GiB) | 2.00 GiB |');
    expect(text).toContain('| flash | 64 | 4096 | 0.525 |');
  });
});

describe('against naive', () => {
  it('says slower, not "0.1× faster", when a kernel takes longer than naive', async () => {
    const { naiveSummary } = await import('../bench/table.js');
    const shape = { batch: 1, heads: 2, kvHeads: 2, seqQ: 16, seqK: 16, headDim: 32, causal: false, scale: 0.17 };
    const lines = naiveSummary([
      record({ kernel: 'naive', shape, medianMs: 1 }),
      record({ kernel: 'flash', shape, medianMs: 10 }),
      record({ kernel: 'flash-f16', shape, medianMs: 0.5 }),
    ]);
    expect(lines).toEqual(['B1 H2 N16 d32: flash 10.0× slower, flash-f16 2.0× faster than naive']);
  });
});
