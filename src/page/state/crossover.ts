/*
 * Where two time curves cross. Times are measured at a few lengths only; between two of them a
 * kernel's time is taken as a power law (a straight line on the log–log chart), which is what
 * attention costs look like (N² for dense, N·w for a window, N for linear), so the crossing is
 * interpolated in log N against the log of the time ratio.
 */

export interface TimePoint {
  n: number;
  ms: number;
}

export interface Crossing {
  /** The length where the two times are equal. */
  n: number;
  /** Which kernel is the faster one past this length. */
  fasterAfter: 'other' | 'reference';
  /** The crossing is a measured length (the times were equal there), not an interpolation. */
  measured: boolean;
}

export type CrossoverKind = 'crosses' | 'never' | 'too-few';

export interface Crossover {
  kind: CrossoverKind;
  crossings: Crossing[];
  /** Lengths both kernels were measured at, ascending. */
  common: number[];
  /** For 'never': which one was faster at every common length ('equal' when they tie throughout). */
  faster: 'other' | 'reference' | 'equal' | null;
}

/**
 * The crossings of `other` with `reference` over the lengths both were measured at. A sign change
 * of log(other ÷ reference) between two lengths is one crossing, at the length where the straight
 * log–log segments meet; a length where the times are exactly equal and the sign changes across it
 * is the crossing itself. Touching without changing sides is not a crossing.
 */
export function crossover(reference: readonly TimePoint[], other: readonly TimePoint[]): Crossover {
  const ref = new Map(reference.map((p) => [p.n, p.ms]));
  const pts = other
    .filter((p) => ref.has(p.n) && p.ms > 0 && ref.get(p.n)! > 0 && p.n > 0)
    .map((p) => ({ n: p.n, f: Math.log(p.ms) - Math.log(ref.get(p.n)!) }))
    .sort((a, b) => a.n - b.n);
  const common = pts.map((p) => p.n);
  if (pts.length < 2) return { kind: 'too-few', crossings: [], common, faster: null };
  const crossings: Crossing[] = [];
  // The last length with a nonzero difference, and the first equal length after it (if any).
  let last: { n: number; f: number } | null = null;
  let firstEqual: number | null = null;
  for (const p of pts) {
    if (p.f === 0) {
      firstEqual ??= p.n;
      continue;
    }
    if (last && Math.sign(p.f) !== Math.sign(last.f)) {
      const fasterAfter = p.f < 0 ? 'other' : 'reference';
      if (firstEqual !== null) crossings.push({ n: firstEqual, fasterAfter, measured: true });
      else {
        const t = last.f / (last.f - p.f);
        const logN = Math.log(last.n) + t * (Math.log(p.n) - Math.log(last.n));
        crossings.push({ n: Math.exp(logN), fasterAfter, measured: false });
      }
    }
    last = p;
    firstEqual = null;
  }
  if (crossings.length > 0) return { kind: 'crosses', crossings, common, faster: null };
  const signs = new Set(pts.map((p) => Math.sign(p.f)).filter((s) => s !== 0));
  const faster = signs.size === 0 ? 'equal' : signs.has(-1) ? 'other' : 'reference';
  return { kind: 'never', crossings, common, faster };
}

/** A length for reading: three significant digits ("6.1k" would hide that it is interpolated). */
export function formatLength(n: number): string {
  if (n >= 1000) return String(Math.round(Number(n.toPrecision(3))));
  return Number(n.toPrecision(3)).toString();
}

/** The crossover in words, e.g. "window-flash faster from N ≈ 6100". */
export function crossoverText(c: Crossover, referenceLabel: string, otherLabel: string): string {
  if (c.kind === 'too-few') return `measured together at ${c.common.length === 0 ? 'no length' : 'one length only'}: nothing to interpolate`;
  if (c.kind === 'never') {
    const range = `N ${c.common[0]}–${c.common[c.common.length - 1]}`;
    const who = c.faster === 'equal' ? 'equal throughout' : `${c.faster === 'other' ? otherLabel : referenceLabel} faster throughout`;
    return `never crosses in the measured range (${range}): ${who}`;
  }
  return c.crossings
    .map((x) => `${x.fasterAfter === 'other' ? otherLabel : referenceLabel} faster from N ${x.measured ? `= ${x.n}` : `≈ ${formatLength(x.n)}`}`)
    .join('; ');
}

/** Time ÷ the reference's time at the same length; null where the reference was not measured there. */
export function ratioAt(reference: readonly TimePoint[], n: number, ms: number): number | null {
  const r = reference.find((p) => p.n === n);
  return r && r.ms > 0 ? ms / r.ms : null;
}
