import type { ResultRecord } from '../../results/schema.js';
import { sameShape } from '../../results/match.js';
import { type PageConfig, problemOf } from './config.js';

/** One field the time plot can put on its x axis. */
export interface XChoice {
  key: string;
  /** The field's label in the singular, lower case ("head dim"). */
  label: string;
  /**
   * The swept field's value the rows are held at when another field is on x (the configured
   * shape has several lengths, the plot needs one); null when x is the swept field itself.
   */
  held: number | null;
}

/** "Sequence lengths" → "sequence length": axis titles read in the singular. */
export const fieldName = (label: string) => label.toLowerCase().replace(/s$/, '');

/**
 * Whether a record is the configured shape with `free` fields taken from the record: with x on
 * head dim, a row at d = 32 matches when every other field is as configured. The shape is
 * resolved again, so fields that follow another (KV heads follow heads) follow the row's value.
 */
export function matchesExcept(record: Pick<ResultRecord, 'family' | 'shape'>, config: PageConfig, free: Record<string, number>): boolean {
  if (record.family !== config.family) return false;
  for (const v of Object.values(free)) if (typeof v !== 'number') return false;
  try {
    return sameShape(record.shape, problemOf(config).resolve({ ...config.shape, ...free }));
  } catch {
    return false;
  }
}

/** The record's value of a numeric field (NaN when absent), for the x of a row. */
export const numberAt = (r: Pick<ResultRecord, 'shape'>, key: string): number => {
  const v = r.shape[key];
  return typeof v === 'number' ? v : Number.NaN;
};

/**
 * Fields the x axis can show: the swept field always, then every whole-number field that takes
 * two values or more among rows that are otherwise the configured shape. Such a field's rows are
 * held at the largest length where it varies, so the line compares like with like.
 */
export function xChoices(records: readonly ResultRecord[], config: PageConfig): XChoice[] {
  const problem = problemOf(config);
  const axis = problem.fields.find((f) => f.key === problem.axis)!;
  const choices: XChoice[] = [{ key: axis.key, label: fieldName(axis.label), held: null }];
  for (const field of problem.fields) {
    if (field.kind !== 'int' || field.key === problem.axis) continue;
    const rows = records.filter((r) => matchesExcept(r, config, { [problem.axis]: numberAt(r, problem.axis), [field.key]: numberAt(r, field.key) }));
    const valuesAt = new Map<number, Set<number>>();
    for (const r of rows) {
      const n = numberAt(r, problem.axis);
      valuesAt.set(n, (valuesAt.get(n) ?? new Set()).add(numberAt(r, field.key)));
    }
    const varied = [...valuesAt].filter(([, values]) => values.size >= 2).map(([n]) => n);
    if (varied.length > 0) choices.push({ key: field.key, label: fieldName(field.label), held: Math.max(...varied) });
  }
  return choices;
}

/** The rows a choice plots: on the swept field, the configured shape at every length; on another, that field free at the held length. */
export function rowsFor(records: readonly ResultRecord[], config: PageConfig, choice: XChoice): ResultRecord[] {
  const axis = problemOf(config).axis;
  return records.filter((r) =>
    choice.held === null
      ? matchesExcept(r, config, { [axis]: numberAt(r, axis) })
      : matchesExcept(r, config, { [axis]: choice.held, [choice.key]: numberAt(r, choice.key) }),
  );
}
