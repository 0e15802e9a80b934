import type { ResultRecord } from '../../results/schema.js';

export type MetricKey = 'ms' | 'tflops' | 'gbps';

export interface Metric {
  key: MetricKey;
  /** The select's option and the chart's name for it. */
  label: string;
  /** Rates are shown with a prefix that suits their size (SwiftShader's MFLOP/s, an H200's TFLOP/s). */
  rate: { unit: string; perSecond: number } | null;
  /** Time on log–log axes shows the power of N; throughput reads better from zero. */
  yLog: boolean;
}

export const METRICS: readonly Metric[] = [
  { key: 'ms', label: 'median ms', rate: null, yLog: true },
  { key: 'tflops', label: 'FLOP/s', rate: { unit: 'FLOP/s', perSecond: 1e12 }, yLog: false },
  { key: 'gbps', label: 'GB/s (bytes/s)', rate: { unit: 'B/s', perSecond: 1e9 }, yLog: false },
];

export const metricOf = (key: string): Metric => METRICS.find((m) => m.key === key) ?? METRICS[0]!;

/** The metric of one row (TFLOP/s and GB/s as the record holds them), null when it has none. */
export function metricValue(r: ResultRecord | undefined, key: MetricKey): number | null {
  if (!r) return null;
  const v = key === 'ms' ? r.medianMs : key === 'tflops' ? r.tflops : r.gbps;
  return v === null || !Number.isFinite(v) ? null : v;
}

/**
 * The p20–p80 band of one row in the metric's terms, [low, high], or null without both
 * percentiles. A rate is work over time, so the slow (p80) time gives the band's low edge: the
 * rate at time t is the median's rate × median ÷ t.
 */
export function metricBand(r: ResultRecord | undefined, key: MetricKey): [number, number] | null {
  if (!r || r.p20Ms === null || r.p80Ms === null || !(r.p20Ms > 0) || !(r.p80Ms > 0)) return null;
  if (key === 'ms') return [r.p20Ms, r.p80Ms];
  const median = metricValue(r, key);
  if (median === null || r.medianMs === null) return null;
  return [(median * r.medianMs) / r.p80Ms, (median * r.medianMs) / r.p20Ms];
}
