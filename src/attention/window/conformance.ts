/**
 * Shapes that try to break a window kernel, as raw fields: windows of 1, 7, 64 and past the
 * sequence; no sinks, one, four, and as many sinks as the window or more; odd lengths (1, 7, 100,
 * 129); decode (one query over a longer cache); Nq < Nk and Nq > Nk (rows that see nothing);
 * multi-head, grouped-query, multi-query; windows and sink counts that no tile size divides.
 */
export const WINDOW_CONFORMANCE: readonly Readonly<Record<string, number>>[] = [
  { seqQ: 1, seqK: 1, window: 1, sinks: 0, heads: 2, kvHeads: 2, batch: 1 },
  { seqQ: 7, seqK: 7, window: 3, sinks: 1, heads: 4, kvHeads: 2, batch: 2 },
  { seqQ: 100, seqK: 100, window: 7, sinks: 4, heads: 3, kvHeads: 1, batch: 1 },
  { seqQ: 129, seqK: 129, window: 64, sinks: 4, heads: 2, kvHeads: 2, batch: 1 },
  { seqQ: 129, seqK: 129, window: 200, sinks: 0, heads: 4, kvHeads: 2, batch: 1 },
  { seqQ: 1, seqK: 129, window: 64, sinks: 4, heads: 4, kvHeads: 1, batch: 2 },
  { seqQ: 37, seqK: 100, window: 33, sinks: 1, heads: 3, kvHeads: 1, batch: 1 },
  { seqQ: 100, seqK: 37, window: 7, sinks: 5, heads: 2, kvHeads: 2, batch: 1 },
  { seqQ: 100, seqK: 100, window: 5, sinks: 9, heads: 2, kvHeads: 1, batch: 1 },
  { seqQ: 129, seqK: 129, window: 1, sinks: 4, heads: 2, kvHeads: 2, batch: 1 },
  { seqQ: 7, seqK: 7, window: 64, sinks: 0, heads: 1, kvHeads: 1, batch: 1 },
  { seqQ: 100, seqK: 100, window: 100, sinks: 1024, heads: 2, kvHeads: 2, batch: 1 },
];
