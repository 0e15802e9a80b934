// --compare: PyTorch's scaled_dot_product_attention timings (the JSON lines that
// ../shared/gpu-kit/torch_sdpa.py prints), matched to our results by shape and precision.
import type { ResultRecord } from '../src/index.js';

export interface TorchRow {
  backend: string;
  dtype: 'float32' | 'float16' | string;
  batch: number;
  heads: number;
  kvHeads: number;
  seq: number;
  dim: number;
  causal: boolean;
  ms?: number;
  tflops?: number;
  error?: string;
}

export interface TorchFile {
  device: string | null;
  torch: string | null;
  rows: TorchRow[];
}

/** Reads torch_sdpa.py output: one JSON object per line; a header line names the device. */
export function parseTorchLines(text: string): TorchFile {
  const out: TorchFile = { device: null, torch: null, rows: [] };
  for (const [i, line] of text.split('\n').entries()) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw new Error(`--compare: line ${i + 1} is not JSON: ${trimmed.slice(0, 80)}`);
    }
    if (row.source === 'torch-sdpa') out.rows.push(row as unknown as TorchRow);
    else if (typeof row.device === 'string') {
      out.device = row.device;
      out.torch = typeof row.torch === 'string' ? row.torch : null;
    }
  }
  if (out.rows.length === 0) throw new Error('--compare: no torch-sdpa rows in the file');
  return out;
}

/** One PyTorch backend's time for a result's shape and precision, and our speed relative to it. */
export interface Comparison {
  source: string;
  backend: string;
  dtype: string;
  ms: number;
  /** PyTorch's time over ours: 1.25 means we take 80% of its time; 0.8 means 1.25× its time. */
  relative: number;
}

/** The PyTorch rows with the same shape and precision as a result (self-attention shapes only). */
export function comparisonsFor(record: ResultRecord, torch: TorchFile): Comparison[] {
  const s = record.shape;
  if (record.medianMs === null || s.seqQ !== s.seqK) return [];
  const dtype = record.precision === 'f16' ? 'float16' : 'float32';
  return torch.rows
    .filter(
      (t) =>
        t.ms !== undefined &&
        t.dtype === dtype &&
        t.batch === s.batch &&
        t.heads === s.heads &&
        (t.kvHeads ?? t.heads) === s.kvHeads &&
        t.seq === s.seqK &&
        t.dim === s.headDim &&
        t.causal === s.causal,
    )
    .map((t) => ({ source: 'torch-sdpa', backend: t.backend, dtype, ms: t.ms!, relative: t.ms! / record.medianMs! }));
}

const SHORT: Record<string, string> = { MATH: 'math', EFFICIENT_ATTENTION: 'mem-eff', FLASH_ATTENTION: 'flash', CUDNN_ATTENTION: 'cudnn' };

export function comparisonCell(list: readonly Comparison[] | undefined): string {
  if (!list || list.length === 0) return '–';
  return list.map((c) => `${SHORT[c.backend] ?? c.backend} ${c.relative.toFixed(2)}×`).join(' ');
}
