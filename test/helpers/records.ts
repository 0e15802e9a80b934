import type { ResultRecord } from '../../src/index.js';

/** A valid, passing result record to vary field by field. */
export function record(over: Partial<ResultRecord> = {}): ResultRecord {
  return {
    family: 'dense',
    kernel: 'flash',
    status: 'ok',
    precision: 'f32',
    shape: { batch: 1, heads: 4, kvHeads: 4, seqQ: 256, seqK: 256, headDim: 64, causal: false, scale: 0.125 },
    tiles: { br: 64, bc: 32 },
    medianMs: 1.5,
    p20Ms: 1.4,
    p80Ms: 1.6,
    minMs: 1.3,
    flops: 1e9,
    bytes: 1e6,
    tflops: 0.67,
    gbps: 0.67,
    scratchBytes: 0,
    compileMs: 12,
    pipelineCached: false,
    timing: { method: 'timestamp', samples: 10, dispatchesPerSample: 1, quantumNs: 1, warmup: 2 },
    check: { rows: 'all', maxAbsError: 1e-7, maxRelError: 1e-5, mismatches: 0, atol: 1e-4, rtol: 1e-3, ok: true },
    seed: 1,
    ...over,
  };
}
