import { AttentionInputError } from '../errors.js';
import type { RawShape, ShapeField, ShapeValue } from './types.js';

/**
 * Fills every field the raw shape leaves out with its default; a field that defaults to another
 * (kvHeads to heads, seqQ to seqK) takes that field's value as given or defaulted.
 */
export function fieldDefaults(fields: readonly ShapeField[], raw: RawShape): Record<string, ShapeValue> {
  const out: Record<string, ShapeValue> = {};
  const pending: ShapeField[] = [];
  for (const f of fields) {
    const given = raw[f.key];
    if (given !== undefined) out[f.key] = given;
    else if (f.kind === 'int' && typeof f.default === 'object') pending.push(f);
    else out[f.key] = f.default as ShapeValue;
  }
  for (const f of pending) {
    const source = (f.default as { sameAs: string }).sameAs;
    const value = out[source];
    if (value === undefined) throw new Error(`field ${f.key} defaults to ${source}, which has no value`);
    out[f.key] = value;
  }
  return out;
}

/**
 * Checks each field's value against its kind and limits. Throws AttentionInputError naming the
 * field, the value and the limit, e.g. "heads must be a whole number from 1 to 1024, got 0".
 */
export function checkFields(fields: readonly ShapeField[], values: Readonly<Record<string, unknown>>): Record<string, ShapeValue> {
  const out: Record<string, ShapeValue> = {};
  for (const f of fields) {
    const v = values[f.key];
    switch (f.kind) {
      case 'int':
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < f.min || v > f.max) {
          throw new AttentionInputError(`${f.key} must be a whole number from ${f.min} to ${f.max}, got ${String(v)}`);
        }
        break;
      case 'bool':
        if (typeof v !== 'boolean') throw new AttentionInputError(`${f.key} must be true or false, got ${String(v)}`);
        break;
      case 'choice':
        if (typeof v !== 'string' || !f.choices.includes(v)) {
          throw new AttentionInputError(`${f.key} must be one of ${f.choices.join(', ')}, got ${String(v)}`);
        }
        break;
      case 'int-list': {
        if (!Array.isArray(v) || v.length < 1 || v.length > f.maxLength) {
          throw new AttentionInputError(`${f.key} must be a list of 1 to ${f.maxLength} whole numbers, got ${String(v)}`);
        }
        const bad = v.find((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < f.min || x > f.max);
        if (bad !== undefined) throw new AttentionInputError(`${f.key} entries must be whole numbers from ${f.min} to ${f.max}, got ${String(bad)}`);
        break;
      }
    }
    out[f.key] = v as ShapeValue;
  }
  return out;
}

/** A shape's field values as one canonical string: two shapes are the same case exactly when their keys are equal. */
export function shapeKey(fields: readonly ShapeField[], shape: object): string {
  const record = shape as Record<string, unknown>;
  return JSON.stringify([...fields.map((f) => record[f.key]), record.scale ?? null]);
}
