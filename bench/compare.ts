// --compare: PyTorch's scaled_dot_product_attention timings (the JSON lines that
// ../shared/gpu-kit/torch_sdpa.py prints), matched to our results by shape and precision.
import type { ResultRecord } from '../src/index.js';
import { matchBaseline } from '../src/results/baseline.js';

export interface TorchRow {
  /** The source script (torch-sdpa, torch-decode, fla, …). */
  source: string;
  /** The family whose records this row times (torch-sdpa rows: dense). */
  family?: string;
  /** Shape fields the row must match, by field key (torch-sdpa rows carry batch/heads/kvHeads/seq/dim/causal instead). */
  shape?: Record<string, number | boolean | string>;
  /** Match records of every precision (e.g. a bf16 anchor that both f32 and f16 kernels are compared with). */
  anyPrecision?: boolean;
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
    if (typeof row.source === 'string' && typeof row.backend === 'string') {
      out.rows.push(row as unknown as TorchRow);
      // Anchor scripts without a header line (fla_linear.py) name the device and torch on every row.
      if (out.device === null && typeof row.device === 'string') out.device = row.device;
      if (out.torch === null && typeof row.torch === 'string') out.torch = row.torch;
    } else if (typeof row.device === 'string') {
      out.device = row.device;
      out.torch = typeof row.torch === 'string' ? row.torch : null;
    }
  }
  if (out.rows.length === 0) throw new Error('--compare: no timing rows (JSON lines with source and backend) in the file');
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

/** The shape fields a row must match: its own `shape`, or torch_sdpa.py's self-attention fields as dense ones. */
function rowShape(t: TorchRow): Record<string, number | boolean | string> {
  if (t.shape) return t.shape;
  return { batch: t.batch, heads: t.heads, kvHeads: t.kvHeads ?? t.heads, seqQ: t.seq, seqK: t.seq, headDim: t.dim, causal: t.causal };
}

const DTYPE_PRECISION: Record<string, string> = { float32: 'f32', float16: 'f16', bfloat16: 'f16' };

/** The reference rows with the same family, shape and precision as a result. */
export function comparisonsFor(record: ResultRecord, torch: TorchFile): Comparison[] {
  if (record.medianMs === null) return [];
  return torch.rows
    .filter((t) => {
      if (t.ms === undefined || (t.family ?? 'dense') !== record.family) return false;
      if (!t.anyPrecision && DTYPE_PRECISION[t.dtype] !== record.precision) return false;
      return Object.entries(rowShape(t)).every(([k, v]) => record.shape[k] === v);
    })
    .map((t) => ({ source: t.source, backend: t.backend, dtype: t.dtype, ms: t.ms!, relative: t.ms! / record.medianMs! }));
}

/** Against a results file of ours: the same kernel and shape there (same tiles when it has them). */
export function baselineComparisons(record: ResultRecord, baseline: readonly ResultRecord[]): Comparison[] {
  const match = matchBaseline(record, baseline);
  if (!match || match.speedup === null) return [];
  return [{ source: 'baseline', backend: 'baseline', dtype: match.baseline.precision, ms: match.baseline.medianMs!, relative: match.speedup }];
}

const SHORT: Record<string, string> = { MATH: 'math', EFFICIENT_ATTENTION: 'mem-eff', FLASH_ATTENTION: 'flash', CUDNN_ATTENTION: 'cudnn' };

export function comparisonCell(list: readonly Comparison[] | undefined): string {
  if (!list || list.length === 0) return '–';
  return list.map((c) => `${SHORT[c.backend] ?? c.backend} ${c.relative.toFixed(2)}×`).join(' ');
}
