// A generic Markdown table for any family's results: time, throughput against the kernel's own
// traffic model and against the problem's minimal bytes, and every comparison the run recorded
// (reference timings of the same shape, or a baseline results file).
import { type ResultRecord, recordShapeLabel } from '../src/index.js';

const ms = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(3) : x.toFixed(4));
const rate = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toPrecision(3));

/** GB/s of the problem's minimal bytes (every input read once, every output written once) at the measured time. */
export function minimalGbps(r: ResultRecord): number | null {
  return r.minBytes !== undefined && r.medianMs ? r.minBytes / (r.medianMs * 1e-3) / 1e9 : null;
}

export function familyTable(rows: readonly ResultRecord[]): string {
  const sources = [...new Set(rows.flatMap((r) => (r.comparisons ?? []).map((c) => `${c.backend} ${c.dtype}`)))];
  const staged = rows.some((r) => r.stages && r.stages.length > 1);
  const head = [
    'kernel',
    'shape',
    'tiles',
    'median ms',
    ...(staged ? ['stages alone (share)'] : []),
    'TFLOP/s',
    'GB/s (model)',
    'GB/s (minimal bytes)',
    'ok',
    ...sources.map((s) => `vs ${s}`),
  ];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const ok = r.status === 'ok' ? (r.timing?.settled === false ? 'yes (timing unsettled)' : 'yes') : r.status;
    const cells = [
      r.kernel,
      recordShapeLabel(r),
      Object.entries(r.tiles)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      ms(r.medianMs),
      ...(staged ? [stagesCell(r)] : []),
      rate(r.tflops),
      rate(r.gbps),
      rate(minimalGbps(r)),
      ok,
      ...sources.map((s) => {
        const c = (r.comparisons ?? []).find((x) => `${x.backend} ${x.dtype}` === s);
        return c ? `${c.relative.toFixed(2)}× (${ms(c.ms)} ms)` : '–';
      }),
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  const notes = rows.flatMap((r) => {
    if (r.reason) return [`- ${r.kernel} ${recordShapeLabel(r)}: ${r.status}: ${r.reason}`];
    const rounds = r.timing?.rounds;
    if (rounds && Math.max(...rounds) / Math.min(...rounds) > 1.1)
      return [
        `- ${r.kernel} ${recordShapeLabel(r)}: rounds of samples disagreed (medians ${rounds.map((m) => ms(m)).join(', ')} ms); the fastest round is reported${r.stages ? ' (stage times come from a round of their own; builds up to 59ad6dc took it right after the first round)' : ''}.`,
      ];
    return [];
  });
  return [...out, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** Each stage's median alone and its share of their sum, e.g. "index 40.1 (24%) · select 22.0 (13%)". */
function stagesCell(r: ResultRecord): string {
  if (!r.stages || r.stages.length < 2) return '–';
  const total = r.stages.reduce((sum, st) => sum + st.medianMs, 0);
  return r.stages.map((st) => `${st.name} ${ms(st.medianMs)} (${((100 * st.medianMs) / total).toFixed(0)}%)`).join(' · ');
}
