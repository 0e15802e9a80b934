import { describe, expect, it } from 'vitest';
import { specialize } from '../src/index.js';
import params from '../src/attention/dense/params.wgsl?raw';
import flashSource from '../src/attention/dense/flash/flash.wgsl?raw';
import rowReduceSubgroup from '../src/attention/dense/flash/row_reduce_subgroup.wgsl?raw';
import rowReduceWorkgroup from '../src/attention/dense/flash/row_reduce_workgroup.wgsl?raw';
import naivePv from '../src/attention/dense/naive/pv.wgsl?raw';
import naiveScores from '../src/attention/dense/naive/scores.wgsl?raw';
import { composeShader } from '../src/wgsl/compose.js';
import { resolveIfBlocks } from '../src/wgsl/conditional.js';

const flashF32 = resolveIfBlocks(flashSource, { f16: false });

const src = `const BR: u32 = 64u;
const SCALE: f32 = 1.0f;
const OFFSET: i32 = -3i;
const FLAG: bool = false;
const DERIVED: u32 = BR / 4u;
fn f() { let BR_LOCAL = BR; }`;

describe('specialize', () => {
  it('replaces the values of named consts, typed, and leaves the rest', () => {
    const out = specialize(src, { BR: 32, SCALE: 0.125, OFFSET: -7, FLAG: true });
    expect(out).toContain('const BR: u32 = 32u;');
    expect(out).toContain('const SCALE: f32 = 0.125f;');
    expect(out).toContain('const OFFSET: i32 = -7i;');
    expect(out).toContain('const FLAG: bool = true;');
    expect(out).toContain('const DERIVED: u32 = BR / 4u;');
    expect(out).toContain('let BR_LOCAL = BR;');
  });

  it('writes whole f32 values as floats', () => {
    expect(specialize(src, { SCALE: 2 })).toContain('const SCALE: f32 = 2.0f;');
  });

  it('refuses unknown names, wrong types and values out of range', () => {
    expect(() => specialize(src, { NOPE: 1 })).toThrow(/declares no module-scope const NOPE/);
    expect(() => specialize(src, { BR: -1 })).toThrow(/BR is u32, got -1/);
    expect(() => specialize(src, { BR: 1.5 })).toThrow(/BR is u32/);
    expect(() => specialize(src, { FLAG: 1 })).toThrow(/FLAG is bool/);
    expect(() => specialize(src, { BR: true })).toThrow(/BR is u32, got a boolean/);
    expect(() => specialize('const X = 1u;', { X: 2 })).toThrow(/needs an explicit type/);
    expect(() => specialize('const X: u32 = 1u;\nconst X: u32 = 2u;', { X: 2 })).toThrow(/declared 2 times/);
  });

  it('finds every tunable const the kernels set, once each, in the real shaders', () => {
    const flash = composeShader([params, rowReduceWorkgroup, flashF32]);
    expect(() => specialize(flash, { HEAD_DIM: 128, BR: 16, BC: 8, WORKGROUP_SIZE: 32, ROW_THREADS: 2 })).not.toThrow();
    for (const source of [naiveScores, naivePv]) {
      expect(() => specialize(source, { WORKGROUP_SIZE: 128, HEAD_DIM: 32 })).not.toThrow();
    }
  });

  it('lifts enable directives to the top of a composed module', () => {
    const code = composeShader([params, rowReduceSubgroup, flashF32]);
    expect(code.startsWith('enable subgroups;\n')).toBe(true);
    expect(code.match(/enable subgroups;/g)).toHaveLength(1);
  });
});

describe('unrollLoops', () => {
  const src = `const TM: u32 = 2u;
fn f() {
  var s: array<f32, 4>;
  // @unroll
  for (var m = 0u; m < TM; m++) {
    // @unroll
    for (var n = 0u; n < 2u + 0u; n++) { s[0] = 1.0; }
    s[m] = f32(m);
  }
}`;

  it('expands a marked loop into const-indexed blocks and asserts the bound', async () => {
    const { unrollLoops } = await import('../src/wgsl/specialize.js');
    const out = unrollLoops(
      `const TM: u32 = 2u;\nfn f() {\n  var s: array<f32, 2>;\n  // @unroll\n  for (var m = 0u; m < TM; m++) {\n    s[m] = f32(m);\n  }\n}`,
      { TM: 2 },
    );
    expect(out).toContain('{ const m = 0u;\n    s[m] = f32(m);\n  }');
    expect(out).toContain('{ const m = 1u;\n    s[m] = f32(m);\n  }');
    expect(out).not.toContain('for (');
    expect(out.trimEnd().endsWith('const_assert TM == 2u;')).toBe(true);
  });

  it('expands nested loops and leaves unmarked ones alone', async () => {
    const { unrollLoops } = await import('../src/wgsl/specialize.js');
    const nested = `fn f() {\n  // @unroll\n  for (var m = 0u; m < TM; m++) {\n    // @unroll\n    for (var n = 0u; n < TN; n++) {\n      x[m * TN + n] = 0.0;\n    }\n    for (var c = 0u; c < 4u; c++) { y += 1.0; }\n  }\n}`;
    const out = unrollLoops(nested, { TM: 2, TN: 3 });
    expect(out.match(/const n = \du;/g)).toHaveLength(6);
    expect(out.match(/const m = \du;/g)).toHaveLength(2);
    expect(out.match(/for \(var c/g)).toHaveLength(2);
    const literal = unrollLoops('// @unroll\nfor (var j = 0u; j < 3u; j++) {\n  x += f32(j);\n}', {});
    expect(literal.match(/const j = \du;/g)).toHaveLength(3);
    expect(literal).not.toContain('const_assert');
    expect(out).toContain('const_assert TM == 2u;');
    expect(out).toContain('const_assert TN == 3u;');
  });

  it('refuses unknown bounds, break/continue and stray markers', async () => {
    const { unrollLoops } = await import('../src/wgsl/specialize.js');
    expect(() => unrollLoops(src, {})).toThrow(/no value for loop bound TM/);
    expect(() => unrollLoops('// @unroll\nfor (var i = 0u; i < N; i++) { if (x) { break; } }', { N: 2 })).toThrow(/break or continue/);
    expect(() => unrollLoops('// @unroll\nlet x = 1;', {})).toThrow(/not followed by a loop/);
    // A mention in prose is not a marker.
    expect(unrollLoops('// loops marked @unroll: expanded', {})).toBe('// loops marked @unroll: expanded');
  });

  it('unrolls the flash kernel into a module the real shader set accepts', async () => {
    const { unrollLoops } = await import('../src/wgsl/specialize.js');
    const flash = specialize(composeShader([params, rowReduceWorkgroup, flashF32]), { HEAD_DIM: 64, BR: 64, BC: 32, WORKGROUP_SIZE: 128, ROW_THREADS: 8 });
    const { flashGeometry, unrollBounds } = await import('../src/attention/dense/flash/kernel.js');
    const out = unrollLoops(flash, unrollBounds(flashGeometry(64, { br: 64, bc: 32, wg: 128, rowThreads: 8, subgroups: 0, prefetch: 1, unroll: 4 })));
    expect(out).not.toMatch(/^\s*\/\/\s*@unroll\s*$/m);
    expect(out).toContain('const_assert TM == 4u;');
  });
});

describe('resolveIfBlocks', () => {
  const src = ['a', '// @if f16', 'half', '// @else', 'full', '// @endif', 'b'].join('\n');

  it('keeps the side of each block its flag picks and drops the markers', () => {
    expect(resolveIfBlocks(src, { f16: true })).toBe('a\nhalf\nb');
    expect(resolveIfBlocks(src, { f16: false })).toBe('a\nfull\nb');
  });

  it('takes blocks without @else, negated flags, indented markers and text without markers as they are', () => {
    const plain = 'fn f() {\n  // a comment that mentions @if f16 in prose\n  // @unroll\n}';
    expect(resolveIfBlocks(plain, {})).toBe(plain);
    const noElse = 'x\n  // @if f16\n  y\n  // @endif\nz';
    expect(resolveIfBlocks(noElse, { f16: true })).toBe('x\n  y\nz');
    expect(resolveIfBlocks(noElse, { f16: false })).toBe('x\nz');
    const negated = '// @if !f16\nf32 only\n// @else\nf16 only\n// @endif';
    expect(resolveIfBlocks(negated, { f16: false })).toBe('f32 only');
    expect(resolveIfBlocks(negated, { f16: true })).toBe('f16 only');
  });

  it('nests: an inner block counts only where the outer one is kept', () => {
    const nested = ['// @if a', 'A', '// @if b', 'AB', '// @else', 'A!B', '// @endif', '// @else', '!A', '// @if b', '!AB', '// @endif', '// @endif'].join(
      '\n',
    );
    expect(resolveIfBlocks(nested, { a: true, b: true })).toBe('A\nAB');
    expect(resolveIfBlocks(nested, { a: true, b: false })).toBe('A\nA!B');
    expect(resolveIfBlocks(nested, { a: false, b: true })).toBe('!A\n!AB');
    expect(resolveIfBlocks(nested, { a: false, b: false })).toBe('!A');
  });

  it('refuses unknown flags, unbalanced and malformed markers, naming the line', () => {
    expect(() => resolveIfBlocks('x\n// @if f61\ny\n// @endif', { f16: true })).toThrow(/line 2: unknown flag f61 \(known: f16\)/);
    expect(() => resolveIfBlocks('x\n// @if f16\ny', { f16: true })).toThrow(/line 2: @if without its @endif/);
    expect(() => resolveIfBlocks('x\n// @endif', { f16: true })).toThrow(/line 2: @endif without an @if/);
    expect(() => resolveIfBlocks('// @else\n', { f16: true })).toThrow(/line 1: @else without an @if/);
    expect(() => resolveIfBlocks('// @if f16\n// @else\n// @else\n// @endif', { f16: true })).toThrow(/line 3: second @else for the @if of line 1/);
    expect(() => resolveIfBlocks('// @if\n// @endif', { f16: true })).toThrow(/line 1: @if takes one flag name/);
    expect(() => resolveIfBlocks('// @if f16 && b\n// @endif', { f16: true })).toThrow(/line 1: @if takes one flag name/);
    expect(() => resolveIfBlocks('// @if f16\n// @endif f16', { f16: true })).toThrow(/line 2: @endif takes nothing after it/);
    expect(() => resolveIfBlocks('// @if f16\n// @elif g\n// @endif', { f16: true })).toThrow(/line 2: not a marker/);
    expect(() => resolveIfBlocks('// @iff16\n', { f16: true })).toThrow(/line 1: not a marker/);
    // The file name, where given, is in the message.
    expect(() => resolveIfBlocks('// @endif', {}, 'flash.wgsl')).toThrow(/flash\.wgsl line 1/);
  });

  it('leaves no marker in either variant of the flash kernel, and each variant declares its own types once', async () => {
    const { flashShaderCode } = await import('../src/attention/dense/flash/kernel.js');
    const tiles = { br: 64, bc: 32, wg: 128, rowThreads: 4, subgroups: 1, prefetch: 1, unroll: 4 };
    for (const lanes of [4, 8] as const) {
      const code = flashShaderCode({ lanes }, 64, tiles);
      expect(code).not.toMatch(/\/\/\s*@(if|else|endif)\b/);
      expect(code.match(/^alias qkv_t = .*;$/gm)).toEqual([lanes === 8 ? 'alias qkv_t = vec4<u32>;' : 'alias qkv_t = vec4<f32>;']);
      expect(code.match(/^const DV: u32 = .*;$/gm)).toEqual([`const DV: u32 = HEAD_DIM / ${lanes}u;`]);
      expect(code.includes('enable f16;')).toBe(lanes === 8);
      expect(code.includes('fn half2(')).toBe(lanes === 8);
      expect(code.startsWith('enable subgroups;\n')).toBe(true);
    }
  });
});
