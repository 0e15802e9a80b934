import { type PageConfig, axisField, problemOf, shapeProblem } from './config.js';

/**
 * A software adapter (SwiftShader, llvmpipe, WARP) runs WGSL on the CPU, some thousand times slower
 * than a GPU: the GPU-sized defaults (N up to 2048, d 64) took over five minutes there. This preset
 * keeps a first Run to seconds while still showing the N² trend over three doublings.
 */
export const SOFTWARE_PRESET = {
  seqs: [64, 128, 256],
  shape: { heads: 2, headDim: 32 } as Record<string, number>,
} as const;

/**
 * The configuration with the software preset applied to every field the URL (or the kept
 * configuration) did not set: a link or a restored session always wins over the preset.
 * `given` holds the query parameter names that were present. Fields a family does not have are
 * left alone, as are values the family's bounds refuse.
 */
export function applySoftwarePreset(config: PageConfig, given: ReadonlySet<string>): PageConfig {
  const problem = problemOf(config);
  const axis = axisField(problem);
  const out: PageConfig = { ...config, shape: { ...config.shape } };
  if (!given.has(axis.url)) {
    const seqs = SOFTWARE_PRESET.seqs.filter((n) => axis.kind !== 'int' || (n >= axis.min && n <= axis.max));
    if (seqs.length > 0) out.seqs = seqs;
  }
  for (const [key, value] of Object.entries(SOFTWARE_PRESET.shape)) {
    const field = problem.fields.find((f) => f.key === key);
    if (!field || field.kind !== 'int' || given.has(field.url) || config.shape[key] === undefined) continue;
    if (value >= field.min && value <= field.max) out.shape[key] = value;
  }
  // A preset that would make the shape inconsistent (2 heads over a family's default of 8 KV
  // heads) keeps the family's own heads and head dim: only the lengths shrink.
  if (shapeProblem(out)) return shapeProblem({ ...config, seqs: out.seqs }) ? config : { ...config, seqs: out.seqs };
  return out;
}

/** The parameter names a query string sets ("?h=2&d=32" → {h, d}). */
export function givenParams(search: string): Set<string> {
  return new Set(new URLSearchParams(search).keys());
}
