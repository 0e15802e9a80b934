import { type ResultRecord, intensityOf, recordShapeLabel, tilesLabel } from '../src/index.js';

/** Three significant digits, without exponent for everyday magnitudes. */
function fmtRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value === 0) return '0';
  if (value >= 100) return value.toFixed(0);
  return value >= 1e-4 ? Number(value.toPrecision(3)).toString() : value.toExponential(1);
}

function fmtMs(ms: number | null): string {
  if (ms === null) return '–';
  return ms >= 100 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(3) : ms.toFixed(4);
}

function fmtErr(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toExponential(1);
}

export const TABLE_HEADERS = [
  'kernel',
  'shape',
  'tiles',
  'median ms',
  'p20–p80 ms',
  'TFLOP/s',
  'GB/s',
  'AI',
  'roof %',
  'max err',
  'ok',
  'compile ms',
  'timing',
];

/** Arithmetic intensity (FLOPs per modelled byte): two significant digits are all a roofline reads. */
function fmtIntensity(value: number | null): string {
  if (value === null) return '–';
  return value >= 100 ? value.toFixed(0) : Number(value.toPrecision(2)).toString();
}

export function tableRow(r: ResultRecord): string[] {
  const ok = r.status === 'ok' ? 'yes' : r.status === 'failed' ? 'FAIL' : r.status;
  return [
    r.kernel,
    recordShapeLabel(r),
    tilesLabel(r.tiles),
    fmtMs(r.medianMs),
    r.p20Ms === null ? '–' : `${fmtMs(r.p20Ms)}–${fmtMs(r.p80Ms)}`,
    fmtRate(r.tflops),
    fmtRate(r.gbps),
    fmtIntensity(intensityOf(r)),
    r.rooflineFraction === undefined ? '–' : (r.rooflineFraction * 100).toFixed(r.rooflineFraction >= 0.1 ? 0 : 1),
    fmtErr(r.check?.maxAbsError),
    ok,
    r.compileMs === null ? '–' : r.pipelineCached ? 'cached' : r.compileMs.toFixed(0),
    r.timing
      ? `${r.timing.method}${r.timing.dispatchesPerSample > 1 ? `×${r.timing.dispatchesPerSample}` : ''}${r.timing.settled === false ? ' unsettled' : ''}`
      : '–',
  ];
}

/** A plain-text table with aligned columns; reasons for skipped or failed rows follow it. */
export function formatTable(records: readonly ResultRecord[], extra?: { header: string; cell: (r: ResultRecord) => string }): string {
  const headers = extra ? [...TABLE_HEADERS, extra.header] : TABLE_HEADERS;
  const rows = records.map((r) => (extra ? [...tableRow(r), extra.cell(r)] : tableRow(r)));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const numeric = new Set([3, 4, 5, 6, 7, 8, 9, 11]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  const notes = records
    .map((r, i) => {
      if (r.reason) return `  [${i + 1}] ${r.kernel} ${recordShapeLabel(r)}: ${r.status}: ${r.reason}`;
      const rounds = r.timing?.rounds;
      if (rounds && Math.max(...rounds) / Math.min(...rounds) > 1.1)
        return `  [${i + 1}] ${r.kernel} ${recordShapeLabel(r)}: rounds of samples disagreed (medians ${rounds.map((m) => formatStageMs(m)).join(', ')} ms): the GPU was disturbed; the fastest round is reported`;
      if (r.timing?.settled === false)
        return `  [${i + 1}] ${r.kernel} ${recordShapeLabel(r)}: timing never settled (${r.timing.warmupMs} ms of warm-up; the GPU's speed was still changing): treat this time with care`;
      return null;
    })
    .filter((n): n is string => n !== null);
  if (notes.length > 0) out.push('', 'Notes:', ...notes);
  return out.join('\n');
}

/**
 * Where multi-pass kernels spend their time: each stage's median alone and its share of their sum,
 * one line per timed row that has stages.
 */
export function stageSummary(records: readonly ResultRecord[]): string[] {
  return records
    .filter((r) => r.stages && r.stages.length > 1 && r.medianMs !== null)
    .map((r) => {
      const total = r.stages!.reduce((sum, st) => sum + st.medianMs, 0);
      const parts = r.stages!.map((st) => `${st.name} ${formatStageMs(st.medianMs)} ms (${((100 * st.medianMs) / total).toFixed(0)}%)`);
      return `${r.kernel} ${recordShapeLabel(r)}: ${parts.join(' · ')}; alone they sum to ${formatStageMs(total)} ms, together ${formatStageMs(r.medianMs!)} ms`;
    });
}

const formatStageMs = (ms: number) => (ms >= 100 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toPrecision(2));

/**
 * Per shape, how much faster each kernel is than naive, or why naive did not run there: the
 * memory wall in one line per shape.
 */
export function naiveSummary(records: readonly ResultRecord[]): string[] {
  const byShape = new Map<string, ResultRecord[]>();
  for (const r of records) {
    const key = recordShapeLabel(r);
    byShape.set(key, [...(byShape.get(key) ?? []), r]);
  }
  const lines: string[] = [];
  for (const [label, rows] of byShape) {
    const naive = rows.find((r) => r.kernel === 'naive');
    const others = rows.filter((r) => r.kernel !== 'naive' && r.medianMs !== null);
    if (!naive || others.length === 0) continue;
    if (naive.medianMs === null) {
      lines.push(`${label}: naive did not run (${naive.reason ?? naive.status})`);
      continue;
    }
    const parts = others.map((r) => {
      const ratio = naive.medianMs! / r.medianMs!;
      return ratio >= 1 ? `${r.kernel} ${ratio.toFixed(1)}× faster` : `${r.kernel} ${(1 / ratio).toFixed(1)}× slower`;
    });
    lines.push(`${label}: ${parts.join(', ')} than naive`);
  }
  return lines;
}
