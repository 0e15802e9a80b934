// The runner's flags, in process: every mistake is refused before any work with one line naming
// the flag and the limit (exit status 2 in the program), and a seeded fuzz of random flag strings
// never gets anything else (a stack trace, a TypeError, a hang).
import { describe, expect, it } from 'vitest';
import { type CliPlan, planFromArgs } from '../bench/cli.js';
import { createRng } from '../src/rng.js';

const refusal = (argv: string[]) => {
  try {
    planFromArgs(argv);
  } catch (error) {
    return error as Error;
  }
  return null;
};

describe('flags a new user got wrong', () => {
  it('refuses numbers past a bound before any work, naming the flag', () => {
    expect(refusal(['--samples', '1e12'])?.message).toMatch(/--samples "1e12": expected a whole number from 1 to 100000/);
    expect(refusal(['--warmup', '3000'])?.message).toMatch(/--warmup "3000": expected a whole number from 0 to 1000/);
    expect(refusal(['--rounds', '0'])?.message).toMatch(/--rounds "0": expected a whole number from 1 to 10/);
    expect((planFromArgs(['--rounds', '1']) as CliPlan).rounds).toBe(1);
    expect((planFromArgs([]) as CliPlan).rounds).toBe(3);
    expect(refusal(['--seq', '1e9'])?.message).toMatch(/--seq "1e9": .*not a whole number/);
    expect(refusal(['--seq', '99999999999999999999'])?.message).toMatch(/--seq "99999999999999999999"/);
    expect(refusal(['--seq', '8388608'])?.message).toMatch(/--seq "8388608": .*8388608 is outside 1\.\.4194304/);
  });

  it('refuses an empty kernel list, duplicate tile keys, tiles of a kernel not run, --exhaustive alone', () => {
    expect(refusal(['--kernels', ','])?.message).toMatch(/--kernels ",": name at least one kernel/);
    expect(refusal(['--tiles', 'flash:br=32,br=64'])?.message).toMatch(/br is given twice/);
    expect(refusal(['--kernels', 'flash', '--tiles', 'naive:wgPv=64'])?.message).toMatch(/naive is not among the kernels run \(flash\)/);
    expect(refusal(['--exhaustive'])?.message).toMatch(/--exhaustive only applies with --autotune/);
  });

  it('refuses a shape field no selected kernel has, and inconsistent shapes', () => {
    expect(refusal(['--kernels', 'flash', '--window', '64'])?.message).toMatch(/--window: no selected kernel has this field/);
    expect(refusal(['--heads', '6', '--kv-heads', '4'])?.message).toMatch(/heads \(6\) must be divisible by kvHeads \(4\)/);
  });

  it('checks output paths first, so a typo cannot lose a long sweep', () => {
    expect(refusal(['--json', '/no/such/folder/out.json'])?.message).toMatch(/--json \/no\/such\/folder\/out\.json: cannot write there/);
    expect(refusal(['--csv', '.'])?.message).toMatch(/--csv \.: cannot write there/);
  });

  it('reads a results file given to --compare as the baseline', () => {
    expect(refusal(['--compare', 'bench/results/h200-kvcache.json'])).toBeNull();
    const plan = planFromArgs(['--compare', 'bench/results/h200-kvcache.json']) as CliPlan;
    expect(plan.compare && 'format' in plan.compare).toBe(true);
  });

  it("takes every family's fields as flags", () => {
    const plan = planFromArgs(['--family', 'decode', '--seq', '100,200', '--kv-type', 'f16,f32', '--layout', 'paged', '--block', '16']) as CliPlan;
    expect(plan.cases).toHaveLength(4);
    expect(plan.cases.every((c) => c.kernel === 'decode-split' && c.shape.layout === 'paged')).toBe(true);
  });
});

describe('fuzz: random flag strings', () => {
  const FLAGS = [
    '--seq',
    '--seq-q',
    '--dim',
    '--heads',
    '--kv-heads',
    '--batch',
    '--causal',
    '--kernels',
    '--family',
    '--tiles',
    '--samples',
    '--warmup',
    '--warmup-ms',
    '--budget-ms',
    '--seed',
    '--timeout-ms',
    '--window',
    '--sinks',
    '--block',
    '--layout',
    '--kv-type',
    '--rule',
    '--topk',
    '--suite',
    '--autotune',
    '--exhaustive',
    '--no-check',
    '--bogus',
    '-x',
  ];
  const VALUES = [
    '',
    ',',
    '0',
    '-1',
    '1',
    '7',
    '64',
    '1e9',
    '4k',
    '256..4096',
    '8..4',
    'NaN',
    'yes',
    'both',
    'maybe',
    'flash',
    'naive,flash',
    'turbo',
    'flash:br=32',
    'flash:br=7',
    'flash:br=32,br=64',
    'decode',
    'paged',
    'f16',
    '99999999999999999999',
    '1:2:3',
    '🙂',
    ' ',
  ];

  it('refuses or plans, with one line, for 300 seeded cases', () => {
    const rng = createRng(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rng() * list.length)]!;
    for (let i = 0; i < 300; i++) {
      const argv: string[] = [];
      const n = 1 + Math.floor(rng() * 4);
      for (let j = 0; j < n; j++) {
        argv.push(pick(FLAGS));
        if (rng() < 0.85) argv.push(pick(VALUES));
      }
      const start = performance.now();
      const error = refusal(argv);
      expect(performance.now() - start, argv.join(' ')).toBeLessThan(2000);
      if (error) {
        expect(error, argv.join(' ')).not.toBeInstanceOf(TypeError);
        expect(error, argv.join(' ')).not.toBeInstanceOf(RangeError);
        expect(error.message.length, argv.join(' ')).toBeGreaterThan(0);
      }
    }
  });
});
