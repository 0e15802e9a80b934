import type { ShapeField, ShapeValue } from './types.js';

/** Most values one field may take in one sweep (a command line or the page's list). */
export const MAX_SWEEP_VALUES = 64;

/**
 * Parses the text of one field as a list of values, the same way on the command line and on the
 * page: ints as "256, 512, 1k" or a doubling range "64..4096" (mixable), flags as no / yes / both,
 * choices by name, int lists as "a:b:c" per case. Returns a message naming the field, the text
 * and the limit instead of values when anything is off.
 */
export function parseFieldList(field: ShapeField, text: string): { values: ShapeValue[] } | { error: string } {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0) return { error: `${field.label}: give at least one value` };
  const values: ShapeValue[] = [];
  const push = (v: ShapeValue) => {
    if (!values.some((x) => JSON.stringify(x) === JSON.stringify(v))) values.push(v);
  };
  for (const part of parts) {
    switch (field.kind) {
      case 'int': {
        const range = /^(\w+)\.\.(\w+)$/.exec(part);
        if (range) {
          const lo = parseWhole(range[1]!);
          const hi = parseWhole(range[2]!);
          if (lo === null || hi === null || lo < 1)
            return { error: `${field.label}: "${part}" — a range is LOW..HIGH with positive whole numbers, e.g. 64..4096` };
          if (lo > hi) return { error: `${field.label}: "${part}" — ${lo} is above ${hi}` };
          for (let n = lo; n <= hi && values.length <= MAX_SWEEP_VALUES; n *= 2) push(n);
          continue;
        }
        const n = parseWhole(part);
        if (n === null) return { error: `${field.label}: "${part}" is not a whole number (256, 4k and 64..4096 are)` };
        push(n);
        break;
      }
      case 'bool': {
        const flags: Record<string, boolean[]> = { no: [false], yes: [true], both: [false, true], false: [false], true: [true], '0': [false], '1': [true] };
        const v = flags[part.toLowerCase()];
        if (!v) return { error: `${field.label}: "${part}" — expected no, yes or both` };
        v.forEach(push);
        break;
      }
      case 'choice':
        if (!field.choices.includes(part)) return { error: `${field.label}: "${part}" — expected one of ${field.choices.join(', ')}` };
        push(part);
        break;
      case 'int-list': {
        const list = part.split(':').map(parseWhole);
        if (list.some((x) => x === null)) return { error: `${field.label}: "${part}" — expected whole numbers separated by ":" (one list per case)` };
        push(list as number[]);
        break;
      }
    }
  }
  if (values.length > MAX_SWEEP_VALUES) return { error: `${field.label}: ${values.length} values; at most ${MAX_SWEEP_VALUES} in one sweep` };
  for (const v of values) {
    const problem = outOfRange(field, v);
    if (problem) return { error: problem };
  }
  if (field.kind === 'int') (values as number[]).sort((a, b) => a - b);
  return { values };
}

/** Why a value breaks the field's limits (naming both), or null. */
export function outOfRange(field: ShapeField, v: ShapeValue): string | null {
  if (field.kind === 'int' && typeof v === 'number' && (v < field.min || v > field.max)) {
    return `${field.label}: ${v} is outside ${field.min}..${field.max}`;
  }
  if (field.kind === 'int-list' && Array.isArray(v)) {
    if (v.length > field.maxLength) return `${field.label}: ${v.length} entries; at most ${field.maxLength}`;
    const bad = v.find((x) => x < field.min || x > field.max);
    if (bad !== undefined) return `${field.label}: ${bad} is outside ${field.min}..${field.max}`;
  }
  return null;
}

/** Writes values back as text parseFieldList reads. */
export function formatFieldList(field: ShapeField, values: readonly ShapeValue[]): string {
  if (field.kind === 'bool') return values.length === 2 ? 'both' : values[0] ? 'yes' : 'no';
  return values.map((v) => (Array.isArray(v) ? v.join(':') : String(v))).join(', ');
}

function parseWhole(text: string): number | null {
  const m = /^(\d+)(k?)$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]) * (m[2] ? 1024 : 1);
  return Number.isSafeInteger(n) ? n : null;
}
