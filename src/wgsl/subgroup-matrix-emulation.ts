/**
 * Subgroup matrices emulated on plain arithmetic, so that a matrix-unit kernel's data flow (which
 * subgroup computes which tile, from which offsets and strides, row- or column-major, and the
 * barriers between them) runs and is checked on adapters without them: SwiftShader in the tests and
 * CI. The real builtins are checked on a GPU that has them (`--conformance`).
 *
 * The transform rewrites a shader written with the real builtins:
 *   subgroup_matrix_left<half, SK, SM>, subgroup_matrix_right<half, SN, SK>,
 *   subgroup_matrix_result<f32, SN, SM>      → EmuLeft, EmuRight, EmuAcc
 *   subgroupMatrixLoad<T, major>(&buf, …)     → emu_load_<kind>_<major>_<buf>(…)
 *   subgroupMatrixStore<major>(&buf, …)       → emu_store_<major>_<buf>(…)
 *   subgroupMatrixMultiplyAccumulate(…)       → emu_mma(…)
 * and appends one load or store function per (kind, major, buffer) it met. An emulated left or right
 * matrix is where its tile lies (buffer, offset, stride, major), read when it is multiplied: so the
 * emulation assumes, as the kernels that use it do, that a tile is not overwritten between its load
 * and its products (holding whole tiles per lane instead made SwiftShader compile for seconds). A
 * result matrix holds lane l's elements l, l + SUBGROUP_SIZE, … of the row-major M×N tile, as a
 * real one is spread over the subgroup, so stores write disjoint elements and a result is only
 * visible to other invocations after a barrier, as on hardware. The operand element type `half` becomes f32, and the entry
 * point's `@builtin(subgroup_id) <name>: u32` becomes `lid / SUBGROUP_SIZE`: the emulated subgroups
 * are consecutive runs of the workgroup's invocations, no subgroup feature needed.
 *
 * Matrices must start and step (offset and stride) on 16-byte boundaries, as the real ones are
 * laid out (an f32 result stored one float past a boundary came out wrong on the H200): in f16
 * operand elements a multiple of 8, in f32 result elements of 4. A misaligned one reads and writes
 * NaN here, so the tests catch it.
 *
 * The shader must declare the consts SM, SN, SK and SUBGROUP_SIZE, `alias half = f16;`, and name its
 * local_invocation_index `lid`.
 */

const TYPES: [RegExp, string][] = [
  [/subgroup_matrix_left<half, SK, SM>/g, 'EmuLeft'],
  [/subgroup_matrix_right<half, SN, SK>/g, 'EmuRight'],
  [/subgroup_matrix_result<f32, SN, SM>/g, 'EmuAcc'],
];
const KIND: Record<string, string> = { EmuLeft: 'left', EmuRight: 'right', EmuAcc: 'acc' };
const LOAD = /subgroupMatrixLoad<(EmuLeft|EmuRight|EmuAcc), (row_major|col_major)>\(&(\w+), /g;
const STORE = /subgroupMatrixStore<(row_major|col_major)>\(&(\w+), /g;
const SUBGROUP_ID = /,\s*@builtin\(subgroup_id\) (\w+): u32\)\s*\{/;

const PRELUDE = `
// Emulated subgroup matrices (src/wgsl/subgroup-matrix-emulation.ts).
const EMU_ACC: u32 = (SM * SN + SUBGROUP_SIZE - 1u) / SUBGROUP_SIZE;
// A misaligned matrix (see emulateSubgroupMatrices) reads and writes NaN.
const EMU_MISALIGNED: u32 = 0xffffffffu;
const EMU_NAN: u32 = 0x7fc00000u;
var<private> emu_lane: u32;
// Runtime, not a const: a const-expression may not produce NaN.
var<private> emu_nan_bits: u32 = EMU_NAN;
// A left (M×K) or right (K×N) matrix: where its tile lies (source buffer, offset, stride, major).
struct EmuLeft { src: u32, off: u32, stride: u32, col_major: bool }
struct EmuRight { src: u32, off: u32, stride: u32, col_major: bool }
struct EmuAcc { x: array<f32, EMU_ACC> }

fn emu_at(off: u32, stride: u32, col_major: bool, r: u32, c: u32) -> u32 {
  return select(off + r * stride + c, off + c * stride + r, col_major);
}

fn emu_mma(a: EmuLeft, b: EmuRight, c: EmuAcc) -> EmuAcc {
  var r = c;
  for (var i = 0u; i < EMU_ACC; i++) {
    let e = emu_lane + i * SUBGROUP_SIZE;
    if (e < SM * SN) {
      let row = e / SN;
      let col = e % SN;
      var s = r.x[i];
      for (var kk = 0u; kk < SK; kk++) {
        s += emu_read(a.src, emu_at(a.off, a.stride, a.col_major, row, kk)) * emu_read(b.src, emu_at(b.off, b.stride, b.col_major, kk, col));
      }
      r.x[i] = s;
    }
  }
  return r;
}
`;

function at(major: string): string {
  return major === 'row_major' ? `off + r * stride + c` : `off + c * stride + r`;
}

function accLoad(major: string, buf: string): string {
  return `fn emu_load_acc_${major}_${buf}(off: u32, stride: u32) -> EmuAcc {
  var m = EmuAcc();
  let misaligned = off % 4u != 0u || stride % 4u != 0u;
  for (var i = 0u; i < EMU_ACC; i++) {
    let e = emu_lane + i * SUBGROUP_SIZE;
    if (e < SM * SN) {
      let r = e / SN;
      let c = e % SN;
      m.x[i] = select(f32(${buf}[${at(major)}]), bitcast<f32>(emu_nan_bits), misaligned);
    }
  }
  return m;
}`;
}

function operandLoad(kind: string, major: string, buf: string, id: number): string {
  const type = kind === 'left' ? 'EmuLeft' : 'EmuRight';
  return `fn emu_load_${kind}_${major}_${buf}(off: u32, stride: u32) -> ${type} {
  return ${type}(select(${id}u, EMU_MISALIGNED, off % 8u != 0u || stride % 8u != 0u), off, stride, ${major === 'col_major'});
}`;
}

function storeFunction(major: string, buf: string): string {
  return `fn emu_store_${major}_${buf}(off: u32, m: EmuAcc, stride: u32) {
  let misaligned = off % 4u != 0u || stride % 4u != 0u;
  for (var i = 0u; i < EMU_ACC; i++) {
    let e = emu_lane + i * SUBGROUP_SIZE;
    if (e < SM * SN) {
      let r = e / SN;
      let c = e % SN;
      ${buf}[${at(major)}] = select(m.x[i], bitcast<f32>(emu_nan_bits), misaligned);
    }
  }
}`;
}

/** One element of any buffer a left or right matrix was loaded from, by its number. */
function readFunction(sources: string[]): string {
  const cases = sources.map((buf, id) => `    case ${id}u: {\n      return f32(${buf}[i]);\n    }`).join('\n');
  return `fn emu_read(src: u32, i: u32) -> f32 {\n  switch src {\n${cases}\n    default: {\n      return bitcast<f32>(emu_nan_bits);\n    }\n  }\n}`;
}

export function emulateSubgroupMatrices(code: string): string {
  let out = code
    .replace(/^enable chromium_experimental_subgroup_matrix;\n/m, '')
    .replace(/^enable subgroups;\n/m, '')
    .replace(/^diagnostic\(off, [\w.]*subgroup[\w.]*\);\n/gm, '');
  if (!/^alias half = f16;$/m.test(out)) throw new Error('emulateSubgroupMatrices: the shader declares no `alias half = f16;`');
  out = out.replace(/^alias half = f16;$/m, 'alias half = f32;');
  for (const [pattern, name] of TYPES) out = out.replace(pattern, name);
  if (/subgroup_matrix_|subgroupMatrix(?!Load|Store|MultiplyAccumulate)/.test(out.replace(LOAD, '').replace(STORE, ''))) {
    throw new Error('emulateSubgroupMatrices: a subgroup-matrix type or builtin this emulation does not cover');
  }
  const functions = new Map<string, string>();
  const sources: string[] = [];
  out = out.replace(LOAD, (_w, type: string, major: string, buf: string) => {
    const kind = KIND[type]!;
    const name = `emu_load_${kind}_${major}_${buf}`;
    if (!functions.has(name)) {
      if (kind === 'acc') functions.set(name, accLoad(major, buf));
      else {
        if (!sources.includes(buf)) sources.push(buf);
        functions.set(name, operandLoad(kind, major, buf, sources.indexOf(buf)));
      }
    }
    return `${name}(`;
  });
  out = out.replace(STORE, (_w, major: string, buf: string) => {
    const name = `emu_store_${major}_${buf}`;
    if (!functions.has(name)) functions.set(name, storeFunction(major, buf));
    return `${name}(`;
  });
  out = out.replace(/subgroupMatrixMultiplyAccumulate\(/g, 'emu_mma(');
  const id = SUBGROUP_ID.exec(out);
  if (!id) throw new Error('emulateSubgroupMatrices: the entry point has no `@builtin(subgroup_id) <name>: u32` parameter last');
  out = out.replace(SUBGROUP_ID, `) {\n  let ${id[1]} = lid / SUBGROUP_SIZE;\n  emu_lane = lid % SUBGROUP_SIZE;`);
  return `${out}\n${PRELUDE}\n${readFunction(sources)}\n\n${[...functions.values()].join('\n\n')}\n`;
}
