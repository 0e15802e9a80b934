import { describe, expect, it } from 'vitest';
import { specialize } from '../src/index.js';
import { SHADER_SOURCES, composeShader } from '../src/shaders.js';

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
    const flash = composeShader(['params.wgsl', 'flash_row_reduce_workgroup.wgsl', 'flash_attention.wgsl']);
    expect(() => specialize(flash, { HEAD_DIM: 128, BR: 16, BC: 8, WORKGROUP_SIZE: 32, ROW_THREADS: 2 })).not.toThrow();
    for (const file of ['naive_scores.wgsl', 'naive_pv.wgsl'] as const) {
      expect(() => specialize(SHADER_SOURCES[file], { WORKGROUP_SIZE: 128, HEAD_DIM: 32 })).not.toThrow();
    }
  });

  it('lifts enable directives to the top of a composed module', () => {
    const code = composeShader(['params.wgsl', 'flash_row_reduce_subgroup.wgsl', 'flash_attention.wgsl']);
    expect(code.startsWith('enable subgroups;\n')).toBe(true);
    expect(code.match(/enable subgroups;/g)).toHaveLength(1);
  });
});
