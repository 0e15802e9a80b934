import type { ResultRecord } from './schema.js';

/** Columns of the CSV export, in order: one row per result, tiles as "key=value" pairs. */
export const CSV_COLUMNS = [
  'kernel', 'status', 'precision', 'batch', 'heads', 'kvHeads', 'seqQ', 'seqK', 'headDim', 'causal', 'scale',
  'tiles', 'medianMs', 'p20Ms', 'p80Ms', 'minMs', 'tflops', 'gbps', 'flops', 'bytes', 'scratchBytes',
  'compileMs', 'timingMethod', 'samples', 'dispatchesPerSample', 'quantumNs', 'checkedRows', 'maxAbsError',
  'maxRelError', 'ok', 'reason', 'tag',
] as const;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(results: readonly ResultRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of results) {
    const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      kernel: r.kernel,
      status: r.status,
      precision: r.precision,
      ...r.shape,
      tiles: Object.entries(r.tiles).map(([k, v]) => `${k}=${v}`).join(' '),
      medianMs: r.medianMs,
      p20Ms: r.p20Ms,
      p80Ms: r.p80Ms,
      minMs: r.minMs,
      tflops: r.tflops,
      gbps: r.gbps,
      flops: r.flops,
      bytes: r.bytes,
      scratchBytes: r.scratchBytes,
      compileMs: r.compileMs,
      timingMethod: r.timing?.method,
      samples: r.timing?.samples,
      dispatchesPerSample: r.timing?.dispatchesPerSample,
      quantumNs: r.timing?.quantumNs,
      checkedRows: r.check?.rows,
      maxAbsError: r.check?.maxAbsError,
      maxRelError: r.check?.maxRelError,
      ok: r.check?.ok,
      reason: r.reason,
      tag: r.tag,
    };
    lines.push(CSV_COLUMNS.map((c) => cell(row[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}
