// Seeded random query strings: the page's URL decoder never throws, keeps a configuration every
// control can show (a known family, its kernels, values within each field's limits), and lists
// every parameter it ignored instead of dropping it silently; the plots' view (x, y) is one the
// plots can show or the default.
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/attention/registry.js';
import { outOfRange } from '../src/attention/field-text.js';
import { LIMITS, problemOf } from '../src/page/state/config.js';
import { METRICS } from '../src/page/state/plot-metric.js';
import { VIEW_PARAMS, decodeSearch } from '../src/page/state/url.js';
import { createRng } from '../src/rng.js';

const KEYS = [
  'f',
  'k',
  'b',
  'h',
  'kvh',
  'n',
  'nq',
  'd',
  'causal',
  'samples',
  'tune',
  'len',
  'kvt',
  'layout',
  'bs',
  'window',
  'sinks',
  'rule',
  'flash.br',
  'flash.bc',
  'naive.wgPv',
  'x',
  'y',
  'flash.zz',
  '',
  '.',
  'k.',
];
const VALUES = [
  '',
  '0',
  '1',
  '-3',
  '64',
  '7',
  '1e9',
  '4k',
  '16..128',
  'NaN',
  'dense',
  'decode',
  'linear',
  'window',
  'kvcache',
  'nope',
  'flash',
  'naive,flash,turbo',
  'paged',
  'f16',
  'delta',
  'yes',
  '1:2',
  '%E2%9C%93',
  '99999999999999999999',
  ',,,',
  'd',
  'kvl',
  'n',
  'gbps',
  'tflops',
  'ms',
];

describe('fuzz: random URL query strings', () => {
  it('decodes 400 seeded queries into a usable configuration, noting what it ignored', () => {
    const rng = createRng(11);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rng() * list.length)]!;
    for (let i = 0; i < 400; i++) {
      const parts = Array.from({ length: 1 + Math.floor(rng() * 6) }, () => `${encodeURIComponent(pick(KEYS))}=${pick(VALUES)}`);
      const query = `?${parts.join('&')}`;
      const { config, view, notes } = decodeSearch(query);
      expect(
        FAMILIES.some((f) => f.problem.family === config.family),
        query,
      ).toBe(true);
      const problem = problemOf(config);
      for (const k of config.kernels) expect(problem.family, query).toBe(FAMILIES.flatMap((f) => f.kernels).find((x) => x.name === k)?.problem.family);
      for (const field of problem.fields) {
        const v = config.shape[field.key];
        if (v !== undefined) expect(outOfRange(field, v), `${query}: ${field.key}=${String(v)}`).toBeNull();
      }
      expect(config.seqs.length, query).toBeGreaterThan(0);
      expect(config.seqs.length, query).toBeLessThanOrEqual(LIMITS.seqCount);
      expect(config.samples).toBeGreaterThanOrEqual(LIMITS.samples.min);
      if (view.x !== null) expect(problem.fields.find((f) => f.key === view.x)?.kind, query).toBe('int');
      if (view.metric !== null)
        expect(
          METRICS.map((m) => m.key),
          query,
        ).toContain(view.metric);
      // A parameter the family does not know is listed in the notes, never dropped silently.
      const known = new Set(['f', 'k', 'samples', 'tune', ...problem.fields.map((f) => f.url)]);
      // The view's keys are known, and no family field may take them.
      for (const key of Object.values(VIEW_PARAMS)) expect(known.has(key), `${problem.family} field ${key}`).toBe(false);
      // A view value that was read needs no note; one that was not (left at the default) does.
      if (view.x !== null) known.add(VIEW_PARAMS.x);
      if (view.metric !== null) known.add(VIEW_PARAMS.metric);
      for (const kernel of FAMILIES.flatMap((f) => f.kernels).filter((x) => x.problem === problem))
        for (const t of kernel.tunables) known.add(`${kernel.name}.${t.key}`);
      for (const part of parts) {
        const key = decodeURIComponent(part.slice(0, part.indexOf('=')));
        if (!known.has(key))
          expect(
            notes.some((n) => n.startsWith(key)),
            `${query}: ${key} ignored without a note`,
          ).toBe(true);
      }
    }
  });
});
