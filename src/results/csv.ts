import { FAMILIES } from '../attention/registry.js';
import { intensityOf } from './roofline.js';
import type { ResultRecord } from './schema.js';

/**
 * Columns of the CSV export, in order, around the shape's: one row per result, tiles as
 * "key=value" pairs. The shape columns are the union of the fields of the families present
 * (registry order), so a file of one family has exactly its fields.
 */
export const CSV_COLUMNS = [
  'family',
  'kernel',
  'status',
  'precision',
  'tiles',
  'medianMs',
  'p20Ms',
  'p80Ms',
  'minMs',
  'stagesMs',
  'roundsMs',
  'tflops',
  'gbps',
  'intensity',
  'rooflineFraction',
  'flops',
  'bytes',
  'minBytes',
  'scratchBytes',
  'compileMs',
  'timingMethod',
  'samples',
  'dispatchesPerSample',
  'quantumNs',
  'checkedRows',
  'maxAbsError',
  'maxRelError',
  'ok',
  'reason',
  'tag',
] as const;

/** The shape columns for these results: every field of their families, then keys no family declares (e.g. scale). */
export function shapeColumns(results: readonly ResultRecord[]): string[] {
  const keys: string[] = [];
  const add = (k: string) => {
    if (!keys.includes(k)) keys.push(k);
  };
  for (const f of FAMILIES) if (results.some((r) => r.family === f.problem.family)) f.problem.fields.forEach((field) => add(field.key));
  for (const r of results) Object.keys(r.shape).forEach(add);
  return keys;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(results: readonly ResultRecord[]): string {
  const shapeKeys = shapeColumns(results);
  const columns = [...CSV_COLUMNS.slice(0, 4), ...shapeKeys, ...CSV_COLUMNS.slice(4)];
  const lines = [columns.join(',')];
  for (const r of results) {
    const shape = Object.fromEntries(shapeKeys.map((k) => [k, Array.isArray(r.shape[k]) ? (r.shape[k] as number[]).join(':') : r.shape[k]]));
    const row: Record<string, unknown> = {
      family: r.family,
      kernel: r.kernel,
      status: r.status,
      precision: r.precision,
      ...shape,
      tiles: Object.entries(r.tiles)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      medianMs: r.medianMs,
      p20Ms: r.p20Ms,
      p80Ms: r.p80Ms,
      minMs: r.minMs,
      // "index=43.3 select=18.5 attend=105.4", like the tiles column; rounds as "9.88 1.95 1.95".
      stagesMs: r.stages?.map((st) => `${st.name}=${st.medianMs}`).join(' '),
      roundsMs: r.timing?.rounds?.join(' '),
      tflops: r.tflops,
      gbps: r.gbps,
      intensity: intensityOf(r),
      rooflineFraction: r.rooflineFraction,
      flops: r.flops,
      bytes: r.bytes,
      minBytes: r.minBytes,
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
    lines.push(columns.map((c) => cell(row[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}
