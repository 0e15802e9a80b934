import { type MetricKey, METRICS } from './plot-metric.js';

/*
 * How the user is looking at the results, kept across a reload. Two homes, by what the choice
 * names:
 *
 * - The results plots' x axis and metric go in the URL (url.ts, `x` and `y`), beside the
 *   configuration: they are two short words that mean the same on any machine ("head dim, in
 *   GB/s"), so a link reproduces the view once its receiver presses Run.
 * - The cross-family comparison (ticked kernels, reference kernel, common shape) and the
 *   roofline's source go to local storage (storage.ts, VIEW_KEY), next to the results and the
 *   imported file they name: "imported/dense/flash" or the file's roofs mean nothing on a machine
 *   without that file, and a reference key (kernel plus its variant fields as JSON) would make
 *   links long and unreadable. They are restored whatever the URL, like the rows they point at.
 *
 * Either way a value that cannot be read is ignored, never trusted half-way: the page falls back
 * to its default view and stays usable.
 */

/** The results plots' choices, in the URL; null: the page's default (the swept field, median ms). */
export interface PlotView {
  /** The x field's key ("headDim"); the plot shows it when the results let it vary, else the swept field. */
  x: string | null;
  metric: MetricKey | null;
}

export const DEFAULT_PLOT_VIEW: PlotView = { x: null, metric: null };

/** Where the roofline's points and roofs come from: this page's results or the imported file. */
export type RooflineSource = 'page' | 'file';

/** The cross-family comparison's choices, as the view keys them (cross-family.ts). */
export interface CompareView {
  /** Candidate keys ("imported/dense/flash"), in the order ticked. */
  ticked: string[];
  /** A series key, or null: the first series. */
  reference: string | null;
  /** The common sizes' key ("1|16|128"), or null: the best choice. */
  dims: string | null;
}

export const DEFAULT_COMPARE_VIEW: CompareView = { ticked: [], reference: null, dims: null };

/** The view choices kept in local storage. */
export interface StoredView {
  compare: CompareView;
  /** null: the page's default (the file's when it has roofs and this device measured none). */
  roofline: RooflineSource | null;
}

export const DEFAULT_STORED_VIEW: StoredView = { compare: DEFAULT_COMPARE_VIEW, roofline: null };

/** Bounds that keep a corrupt or hostile entry from growing the page: far above any real comparison. */
export const VIEW_LIMITS = { ticked: 200, keyLength: 1000 } as const;

export const isMetricKey = (v: unknown): v is MetricKey => typeof v === 'string' && METRICS.some((m) => m.key === v);

const isKey = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= VIEW_LIMITS.keyLength;

/**
 * The stored view from its JSON text; each part that is missing or cannot be read keeps its
 * default on its own (a bad reference does not cost the ticked kernels). Never throws.
 */
export function parseStoredView(text: string | null): StoredView {
  if (text === null) return DEFAULT_STORED_VIEW;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return DEFAULT_STORED_VIEW;
  }
  if (typeof raw !== 'object' || raw === null) return DEFAULT_STORED_VIEW;
  const { compare, roofline } = raw as { compare?: unknown; roofline?: unknown };
  const c = (typeof compare === 'object' && compare !== null ? compare : {}) as { ticked?: unknown; reference?: unknown; dims?: unknown };
  const ticked = Array.isArray(c.ticked) ? [...new Set(c.ticked.filter(isKey))].slice(0, VIEW_LIMITS.ticked) : [];
  return {
    compare: { ticked, reference: isKey(c.reference) ? c.reference : null, dims: isKey(c.dims) ? c.dims : null },
    roofline: roofline === 'page' || roofline === 'file' ? roofline : null,
  };
}

export function serializeStoredView(view: StoredView): string {
  return JSON.stringify(view);
}
