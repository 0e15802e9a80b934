import { describe, expect, it } from 'vitest';
import { comparisonCell, comparisonsFor, parseTorchLines } from '../bench/compare.js';
import { record as sampleRecord } from './helpers/records.js';

const row = (over: Record<string, unknown>) =>
  JSON.stringify({
    source: 'torch-sdpa',
    backend: 'EFFICIENT_ATTENTION',
    dtype: 'float32',
    batch: 1,
    heads: 4,
    kvHeads: 4,
    seq: 256,
    dim: 64,
    causal: false,
    ms: 3,
    tflops: 1,
    ...over,
  });

describe('PyTorch comparison', () => {
  const text = [
    '{"device": "NVIDIA H100 80GB HBM3", "torch": "2.11.0"}',
    row({}),
    row({ backend: 'MATH', ms: 6 }),
    row({ dtype: 'float16', ms: 1 }),
    row({ causal: true, ms: 2 }),
    row({ backend: 'FLASH_ATTENTION', error: 'No available kernel', ms: undefined }),
    'noise that is not JSON is skipped',
  ].join('\n');

  it('reads the header and the rows', () => {
    const file = parseTorchLines(text);
    expect(file.device).toBe('NVIDIA H100 80GB HBM3');
    expect(file.torch).toBe('2.11.0');
    expect(file.rows).toHaveLength(5);
    expect(() => parseTorchLines('{"device":"x"}')).toThrow(/no timing rows/);
    expect(() => parseTorchLines('{broken')).toThrow(/line 1 is not JSON/);
  });

  it('takes the device from the rows when there is no header line (fla_linear.py)', () => {
    const file = parseTorchLines('{"source":"fla","backend":"chunk_simple_gla","ms":1,"device":"NVIDIA H200","torch":"2.11.0"}');
    expect(file.device).toBe('NVIDIA H200');
    expect(file.torch).toBe('2.11.0');
  });

  it('matches by shape and precision, as their time over ours', () => {
    const file = parseTorchLines(text);
    const f32 = comparisonsFor(sampleRecord({ medianMs: 1.5 }), file);
    expect(f32.map((c) => [c.backend, c.relative])).toEqual([
      ['EFFICIENT_ATTENTION', 2],
      ['MATH', 4],
    ]);
    const f16 = comparisonsFor(sampleRecord({ precision: 'f16', medianMs: 0.5 }), file);
    expect(f16.map((c) => [c.dtype, c.relative])).toEqual([['float16', 2]]);
    expect(comparisonsFor(sampleRecord({ medianMs: null }), file)).toEqual([]);
    expect(comparisonsFor(sampleRecord({ shape: { ...sampleRecord().shape, seqQ: 1 } }), file)).toEqual([]);
    expect(comparisonCell(f32)).toBe('mem-eff 2.00× math 4.00×');
    expect(comparisonCell(undefined)).toBe('–');
  });
});
