import { isTimed } from '../../results/match.js';
import { problemOf } from '../../results/label.js';
import type { ResultRecord } from '../../results/schema.js';

/*
 * The top-k pipeline's time split into its stages (indexer, selection, attention over the selected
 * keys): from the pipeline row's own stage timings when it has them, else from stage rows timed
 * alone at the pipeline's shape. The stages are separate problems with
 * fewer fields each, so a stage row lines up with a pipeline row when every field the stage has
 * equals the pipeline's, and it scores or selects every query (queryRows = N): a block of the last
 * queries only times a part of the work.
 */

export const STAGE_FAMILIES = ['topk-index', 'topk-select', 'topk-attend'] as const;
export type StageFamily = (typeof STAGE_FAMILIES)[number];

export interface StagePoint {
  n: number;
  /** The pipeline's own time at this length. */
  pipelineMs: number;
  /** Each stage's time (its fastest matching row). */
  ms: Record<StageFamily, number>;
  /** index, index + select, index + select + attend: the stacked curve's heights. */
  cumulative: [number, number, number];
  /** Each stage's part of the three stages' sum (adds up to 1). */
  shares: Record<StageFamily, number>;
  /** The stages' sum ÷ the pipeline's time: above 1 when one fused pass beats three launches. */
  sumOverPipeline: number;
}

export interface StageStack {
  points: StagePoint[];
  /** Why a length has no stacked point: a stage missing there, or its rows at another shape. */
  problems: string[];
}

function stageKeys(family: string): string[] {
  return problemOf({ family })?.fields.map((f) => f.key) ?? [];
}

/** Fields where a stage row differs from the pipeline row, in words ("topK 64 ≠ 2048"); empty when it lines up. */
export function stageMismatch(stage: ResultRecord, pipeline: ResultRecord): string[] {
  const out: string[] = [];
  const n = pipeline.shape.seqK;
  for (const key of stageKeys(stage.family)) {
    const v = stage.shape[key];
    if (key === 'queryRows') {
      if (v !== n) out.push(`queryRows ${String(v)} of ${String(n)} (only the last queries)`);
      continue;
    }
    const want = pipeline.shape[key];
    if (want !== undefined && JSON.stringify(v) !== JSON.stringify(want)) out.push(`${key} ${String(v)} ≠ ${String(want)}`);
  }
  return out;
}

/**
 * Stacks the stage rows of `pool` under each of `pipeline`'s rows (one per length, as drawn). Null
 * when the pool holds no stage rows at all: nothing to say then.
 */
/** The pipeline record's own stage names (its `stages`, timed inside the pipeline run) for each stage family. */
const OWN_STAGE: Record<StageFamily, string> = { 'topk-index': 'index', 'topk-select': 'select', 'topk-attend': 'attend' };

/** Stage times the pipeline run measured itself, when it has all three. */
function ownStages(p: ResultRecord): Record<StageFamily, number> | null {
  const ms = {} as Record<StageFamily, number>;
  for (const family of STAGE_FAMILIES) {
    const stage = p.stages?.find((st) => st.name === OWN_STAGE[family]);
    if (!stage) return null;
    ms[family] = stage.medianMs;
  }
  return ms;
}

export function stackStages(pipeline: readonly ResultRecord[], pool: readonly ResultRecord[]): StageStack | null {
  const stages = pool.filter((r) => (STAGE_FAMILIES as readonly string[]).includes(r.family) && isTimed(r));
  // A pipeline row that timed its own stages needs no stage rows: they are exactly its shape.
  if (stages.length === 0 && !pipeline.some((p) => isTimed(p) && ownStages(p))) return null;
  const points: StagePoint[] = [];
  const problems: string[] = [];
  for (const p of [...pipeline].filter(isTimed).sort((a, b) => (a.shape.seqK as number) - (b.shape.seqK as number))) {
    const n = p.shape.seqK as number;
    const ms = ownStages(p) ?? ({} as Record<StageFamily, number>);
    const missing: string[] = [];
    for (const family of ownStages(p) ? [] : STAGE_FAMILIES) {
      const atN = stages.filter((r) => r.family === family && r.shape.seqK === n);
      const fit = atN.filter((r) => stageMismatch(r, p).length === 0).sort((a, b) => a.medianMs! - b.medianMs!)[0];
      if (fit) ms[family] = fit.medianMs!;
      else if (atN.length === 0) missing.push(`no ${family} row`);
      else missing.push(`${family} at another shape (${stageMismatch(atN[0]!, p).join(', ')})`);
    }
    if (missing.length > 0) {
      problems.push(`N ${n}: ${missing.join('; ')}`);
      continue;
    }
    const index = ms['topk-index'];
    const select = ms['topk-select'];
    const attend = ms['topk-attend'];
    const sum = index + select + attend;
    points.push({
      n,
      pipelineMs: p.medianMs!,
      ms,
      cumulative: [index, index + select, sum],
      shares: { 'topk-index': index / sum, 'topk-select': select / sum, 'topk-attend': attend / sum },
      sumOverPipeline: sum / p.medianMs!,
    });
  }
  return { points, problems };
}
