import { type AttentionInputs } from './inputs.js';
import { kvHeadOf, resolveShape, visibleKeys } from './shape.js';

/**
 * CPU reference attention, accumulating in float64.
 *
 * Returns O in the layout of Q ([batch, heads, seqQ, headDim]). With `rows`, only those flat row
 * indices (b·heads·seqQ + h·seqQ + i) are computed and the returned array holds them in that order
 * (rows.length × headDim), so large shapes can be checked on a sample.
 *
 * Follows IEEE arithmetic: NaN in a row's visible scores or values gives NaN in that row; a score of
 * −∞ acts as a masked key. A row that sees no key (causal with seqQ > seqK) is 0.
 */
export function referenceAttention(inputs: AttentionInputs, rows?: ArrayLike<number>): Float64Array {
  const s = resolveShape(inputs);
  const { q, k, v } = inputs;
  const d = s.headDim;
  const totalRows = s.batch * s.heads * s.seqQ;
  const rowCount = rows ? rows.length : totalRows;
  const out = new Float64Array(rowCount * d);
  const scores = new Float64Array(s.seqK);
  const acc = new Float64Array(d);
  for (let r = 0; r < rowCount; r++) {
    const row = rows ? rows[r]! : r;
    if (!Number.isInteger(row) || row < 0 || row >= totalRows) {
      throw new RangeError(`reference row ${row} is outside 0..${totalRows - 1}`);
    }
    const i = row % s.seqQ;
    const bh = (row - i) / s.seqQ;
    const h = bh % s.heads;
    const b = (bh - h) / s.heads;
    const qOff = row * d;
    const kvBase = (b * s.kvHeads + kvHeadOf(s, h)) * s.seqK * d;
    const n = visibleKeys(s, i);
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      const kOff = kvBase + j * d;
      for (let c = 0; c < d; c++) dot += q[qOff + c]! * k[kOff + c]!;
      const score = dot * s.scale;
      scores[j] = score;
      // Math.max propagates NaN, which is what we want the reference to do.
      max = Math.max(max, score);
    }
    acc.fill(0);
    let sum = 0;
    if (n > 0 && max !== -Infinity) {
      for (let j = 0; j < n; j++) {
        const p = Math.exp(scores[j]! - max);
        sum += p;
        const vOff = kvBase + j * d;
        for (let c = 0; c < d; c++) acc[c]! += p * v[vOff + c]!;
      }
    }
    const outOff = r * d;
    for (let c = 0; c < d; c++) out[outOff + c] = sum > 0 || Number.isNaN(sum) ? acc[c]! / sum : 0;
  }
  return out;
}

/**
 * Rows to check for a shape whose full reference would cost more than `budgetMacs` multiply-adds.
 * Every (batch, head) gets its first and last query row (the causal extremes), and the rest of the
 * budget is spread evenly over all rows by a fixed stride, so the sample is the same on every run.
 * Returns undefined when the whole output fits in the budget.
 */
export function referenceSampleRows(inputs: Pick<AttentionInputs, 'batch' | 'heads' | 'seqQ' | 'seqK' | 'headDim'>, budgetMacs = 64e6): number[] | undefined {
  const totalRows = inputs.batch * inputs.heads * inputs.seqQ;
  const macsPerRow = 2 * inputs.seqK * inputs.headDim;
  if (totalRows * macsPerRow <= budgetMacs) return undefined;
  const budgetRows = Math.max(1, Math.floor(budgetMacs / macsPerRow));
  const chosen = new Set<number>();
  const heads = inputs.batch * inputs.heads;
  for (let bh = 0; bh < heads && chosen.size < budgetRows; bh++) {
    chosen.add(bh * inputs.seqQ);
    chosen.add(bh * inputs.seqQ + inputs.seqQ - 1);
  }
  const remaining = budgetRows - chosen.size;
  const stride = totalRows / Math.max(1, remaining);
  for (let n = 0; n < remaining; n++) {
    let row = Math.floor(stride * (n + 0.5));
    while (chosen.has(row)) row = (row + 1) % totalRows;
    chosen.add(row);
  }
  return [...chosen].sort((a, b) => a - b);
}
