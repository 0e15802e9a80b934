import { F16_TOLERANCE, F32_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps, SubgroupMatrixConfig } from '../../../gpu/caps.js';
import { bindBuffers, bindingKinds } from '../../../gpu/pipelines.js';
import { resolveIfBlocks } from '../../../wgsl/conditional.js';
import { emulateSubgroupMatrices } from '../../../wgsl/subgroup-matrix-emulation.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, tilesLabel } from '../../common.js';
import { mmaConfig } from '../../dense/flash-mma/kernel.js';
import type { ConfigProblem, KernelDescriptor, ScratchBuffer } from '../../types.js';
import { chunkedPasses, compileChunkedPasses, linearProblems, withStorage } from '../common.js';
import { linearProblem } from '../problem.js';
import type { LinearShape } from '../shape.js';
import prepareSource from './prepare_mma.wgsl?raw';
import recurSource from './recur_mma.wgsl?raw';

export type ChunkedMmaTiles = {
  /** Tokens per chunk (a multiple of the matrix size). */
  readonly chunk: number;
  /** Value columns per recurrence workgroup (a multiple of the matrix size that divides d_v). */
  readonly dvt: number;
  /** Subgroups per recurrence workgroup; they take its output and state tiles in turn. */
  readonly sgs: number;
};

/** The matrix shape and subgroup size a module is built for. */
export interface MatrixUnits {
  config: SubgroupMatrixConfig;
  subgroupSize: number;
  /** Build the emulated module (src/wgsl/subgroup-matrix-emulation.ts): f32 operands, no matrix units. */
  emulate: boolean;
}

/** Subgroups of the (parallel) chunk-preparation pass. */
export const MMA_PREPARE_SGS = 4;
/** Smallest scratch buffer: a 32×32 f32 matrix, above any matrix configuration's load. */
const MIN_SCRATCH_BYTES = 4096;
/** Registers per lane pass 2 may plan for (NVIDIA allows 255; the rest is addressing and loop state). */
export const MMA_MAX_REGISTERS = 200;
/** Recurrence workgroups the default value tile aims for: about one per SM of a 132-SM GPU. */
const TARGET_WORKGROUPS = 128;

/**
 * Where pass 1's outputs lie in the two scratch buffers, chunk-padded: in sh (f16 operands, `half`
 * bytes each: 4 in the emulated twin) q̃, k̃, P, then −w (delta) or v (gla); in sf (f32) u (delta),
 * then the chunk decays. Independent of the matrix shape.
 */
export function chunkedMmaScratch(s: LinearShape, chunk: number, half: number) {
  const delta = s.rule === 'delta';
  const chunks = Math.ceil(s.seqK / chunk);
  const padded = s.batch * s.heads * chunks * chunk;
  const ks0 = padded * s.dk;
  const pm0 = 2 * padded * s.dk;
  const ws0 = pm0 + padded * chunk;
  const vp0 = ws0 + (delta ? padded * s.dk : 0);
  const carry0 = delta ? padded * s.dv : 0;
  return {
    chunks,
    padded,
    ks0,
    pm0,
    ws0,
    vp0,
    carry0,
    shBytes: (vp0 + (delta ? 0 : padded * s.dv)) * half,
    sfBytes: (carry0 + s.batch * s.heads * chunks) * 4,
  };
}

export function chunkedMmaGeometry(s: LinearShape, tiles: ChunkedMmaTiles, units: MatrixUnits) {
  const { chunk: c, dvt, sgs } = tiles;
  const { M } = units.config;
  const delta = s.rule === 'delta';
  const half = units.emulate ? 4 : 2;
  // A's rows padded to C + 1 floats (prepare_mma.wgsl says why); T in f16.
  // gla has no A: 16 floats keep R (a matrix store's target) 64-byte aligned, as the matrix units need
  // (at one float, gla's Gram tiles came out wrong on the H200); C·(C + 1) is a multiple of 16.
  const aSize = delta ? c * (c + 1) : 16;
  const t16Size = delta ? c * c : 1;
  const rSize = Math.max(delta ? c * s.dk : 1, (delta ? 2 : 1) * MMA_PREPARE_SGS * M * M);
  const colBlocks = dvt / M;
  const outTiles = (c / M) * colBlocks;
  const stateTiles = (s.dk / M) * colBlocks;
  const ot = Math.ceil(outTiles / sgs);
  const ht = Math.ceil(stateTiles / sgs);
  const kSteps = s.dk / M;
  const jSteps = c / M;
  // Pass 2's registers per lane: a left matrix holds M·K/2 f16 pairs over the subgroup, a result
  // M·N floats. Live at once: the chunk's prefetched q̃ and −w matrices and u (delta) across step 1,
  // or the outputs with the P and k̃ᵀ matrices across delta's barriers; 24 for the rest.
  const operand = (M * M) / 2 / units.subgroupSize;
  const result = (M * M) / units.subgroupSize;
  const recurRegisters = 24 + Math.max(ot * kSteps * (delta ? 2 : 1) * operand + (delta ? ot * result : 0), ot * result + (ot + ht) * jSteps * operand);
  return {
    ...chunkedMmaScratch(s, c, half),
    aSize,
    rSize,
    colTiles: s.dv / dvt,
    outTiles,
    stateTiles,
    /** Output and state tiles per subgroup, at most (tile t goes to subgroup t % sgs). */
    ot,
    ht,
    kSteps,
    jSteps,
    recurRegisters,
    t16Size,
    /** Pass 1: gates and norms, q/k (later the WY right-hand sides) staged, T in f16, A and R in f32. */
    prepareBytes: 4 * c * 4 + c * (Math.max(s.dk, s.dv) + s.dk) * half + t16Size * half + (aSize + rSize) * 4,
    /** Pass 2: the state slice in f32 and f16, vnew/output in f32 and vnew in f16. */
    recurBytes: (s.dk * dvt + c * dvt) * (4 + half),
  };
}

export function chunkedMmaShaders(s: LinearShape, tiles: ChunkedMmaTiles, units: MatrixUnits): { prepare: string; recur: string } {
  const geo = chunkedMmaGeometry(s, tiles, units);
  const { M, N, K } = units.config;
  const delta = s.rule === 'delta';
  const common = { DK: s.dk, DV: s.dv, C: tiles.chunk, SM: M, SN: N, SK: K, SUBGROUP_SIZE: units.subgroupSize, DELTA: delta };
  const prepare = specialize(resolveIfBlocks(prepareSource, { DELTA: delta }, 'prepare_mma.wgsl'), {
    ...common,
    DMAX: Math.max(s.dk, s.dv),
    SGS: MMA_PREPARE_SGS,
    SCALE: s.scale,
    A_SIZE: geo.aSize,
    T16_SIZE: geo.t16Size,
    R_SIZE: geo.rSize,
  });
  const recur = specialize(recurSource, {
    ...common,
    DVT: tiles.dvt,
    SGS: tiles.sgs,
    OUT_TILES: geo.outTiles,
    STATE_TILES: geo.stateTiles,
    OT: geo.ot,
    HT: geo.ht,
  });
  // The emulated twin keeps its loops: they only hold registers on the real one, and unrolled they
  // more than double SwiftShader's compile time.
  const build = (code: string, bounds: Record<string, number>) =>
    units.emulate ? withStorage(emulateSubgroupMatrices(code), 'f32') : withStorage(unrollLoops(code, bounds), 'f16');
  const stageIters = Math.ceil((tiles.chunk * s.dk) / 4 / (MMA_PREPARE_SGS * units.subgroupSize));
  return { prepare: build(prepare, { STAGE_ITERS: stageIters }), recur: build(recur, { OT: geo.ot, HT: geo.ht, KSTEPS: geo.kSteps, JSTEPS: geo.jSteps }) };
}

/** Uniform of both passes: T, chunks per head, where each operand starts in the scratch buffers, and the GVA group. */
function createParams(device: GPUDevice, s: LinearShape, geo: ReturnType<typeof chunkedMmaGeometry>): GPUBuffer {
  const buffer = device.createBuffer({ label: 'linear-chunked-mma params', size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, new Uint32Array([s.seqK, geo.chunks, geo.ks0, geo.pm0, geo.ws0, geo.vp0, geo.carry0, s.heads / s.qkHeads]));
  return buffer;
}

// Pass 1 reads q, k, v, g and β and writes sh and sf; pass 2 reads sh, sf and s0 and writes o and sT.
const PREPARE_BINDINGS = bindingKinds(5, 2);
const RECUR_BINDINGS = bindingKinds(3, 2);

const describeConfig = (c: SubgroupMatrixConfig) => `${c.componentType}→${c.resultComponentType} ${c.M}×${c.N}×${c.K}`;

/**
 * linear-chunked-mma, or (with `emulated`) its twin built on emulated subgroup matrices with f32
 * storage, which runs anywhere: the tests check the kernel's tiling, offsets and barriers with it on
 * SwiftShader. Only the real kernel is registered.
 */
export function makeChunkedMma(emulated?: { config: SubgroupMatrixConfig; subgroupSize: number }): KernelDescriptor<LinearShape, ChunkedMmaTiles> {
  const storage = emulated ? 'f32' : 'f16';
  const name = emulated ? 'linear-chunked-mma-emulated' : 'linear-chunked-mma';
  const unitsOf = (caps: DeviceCaps): MatrixUnits | undefined => {
    if (emulated) return { ...emulated, emulate: true };
    const config = mmaConfig(caps);
    return config ? { config, subgroupSize: caps.subgroupMaxSize, emulate: false } : undefined;
  };
  const kernel: KernelDescriptor<LinearShape, ChunkedMmaTiles> = {
    name,
    problem: linearProblem,
    title: `Chunked on subgroup matrices (GLA; gated DeltaNet in WY form), ${emulated ? 'emulated, f32' : 'f16 storage, f32 state'}`,
    description:
      'linear-chunked on the matrix units (chromium-experimental-subgroup-matrix: tensor cores on NVIDIA): pass 1 computes every chunk in parallel (QKᵀ, KKᵀ and the WY products as f16 matrix multiplies, the triangular solve in f32) and folds the decays and norms into the operands; pass 2 carries the f32 state across chunks with four matrix products per chunk (delta) and writes the output.',
    tunables: [
      {
        key: 'chunk',
        label: 'Chunk (C)',
        help: 'Tokens per chunk: C² work inside a chunk against T/C sequential steps; a multiple of the matrix size.',
        values: [8, 16, 32, 64],
      },
      {
        key: 'dvt',
        label: 'Value tile',
        help: 'State columns per recurrence workgroup (divides d_v): narrower tiles make more workgroups, each re-reading q̃, k̃, P and −w.',
        values: [8, 16, 32, 64],
      },
      {
        key: 'sgs',
        label: 'Subgroups',
        help: "Subgroups per recurrence workgroup; they take the chunk's output and state tiles in turn (beyond the tile count, they idle).",
        values: [1, 2, 4, 8],
      },
    ],
    requiredFeatures: emulated ? [] : ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'],
    precision: storage,
    // f16 storage, and f16 operands (q̃, k̃, P, −w, vnew and the state rounded for the products, as
    // fla rounds to bf16) with f32 accumulation and an f32 state: the f16 bound. The emulated twin
    // computes in f32 throughout.
    tolerance: emulated ? F32_TOLERANCE : F16_TOLERANCE,
    // Dims multiples of 16 (the matrix size); the odd-width case's d_v is three value tiles (48
    // at tiles of 16, 96 at 32). Every chunk size; one, two, four and eight subgroups.
    conformance: [
      {
        fixed: { storage, oddDv: 48 },
        tiles: [
          { chunk: 16, dvt: 16, sgs: 1 },
          { chunk: 32, dvt: 16, sgs: 2 },
          { chunk: 64, dvt: 16, sgs: 4 },
        ],
      },
      {
        fixed: { storage, dk: 64, dv: 64, oddDv: 96 },
        tiles: [
          { chunk: 32, dvt: 32, sgs: 4 },
          { chunk: 16, dvt: 32, sgs: 2 },
        ],
      },
      { fixed: { storage, dk: 128, dv: 32, oddDv: 48 }, tiles: [{}, { chunk: 16, dvt: 16, sgs: 8 }] },
    ],

    defaultTiles(s, caps) {
      // Delta: pass 1 holds A, T and −w beside the staged q and k, which fits 48 KiB at C = 32 (not
      // 64) for d_k = 128; gla takes C = 64, half the sequential steps.
      const chunks = s.rule === 'delta' ? [32, 16, 64] : [64, 32, 16];
      const dvts = [16, 32, 64].filter((d) => s.dv % d === 0);
      const wide = dvts.filter((d) => s.batch * s.heads * (s.dv / d) >= TARGET_WORKGROUPS);
      for (const chunk of chunks)
        for (const dvt of [...wide.reverse(), ...dvts])
          for (const sgs of [4, 2, 8, 1]) {
            const tiles = { chunk, dvt, sgs };
            if (kernel.check(s, tiles, caps).length === 0) return tiles;
          }
      return { chunk: 16, dvt: 16, sgs: 1 };
    },

    check(s, tiles, caps) {
      const problems: ConfigProblem[] = linearProblems(s, caps, storage, name, s.batch * s.heads);
      const units = unitsOf(caps);
      if (!units) {
        const offers = caps.subgroupMatrixConfigs.length === 0 ? 'none' : caps.subgroupMatrixConfigs.map(describeConfig).join(', ');
        problems.push(
          ruleProblem(
            'subgroupMatrixConfigs (f16 → f32)',
            1,
            0,
            `${name} needs a subgroup-matrix configuration with f16 operands and an f32 result; this device offers ${offers}`,
          ),
        );
        return problems;
      }
      const { M, N, K } = units.config;
      if (!emulated && caps.subgroupMinSize !== caps.subgroupMaxSize) {
        problems.push(
          ruleProblem(
            'subgroupMinSize = subgroupMaxSize',
            caps.subgroupMinSize,
            caps.subgroupMaxSize,
            `${name} numbers its subgroups for one subgroup size; this device's subgroups vary from ${caps.subgroupMinSize} to ${caps.subgroupMaxSize}`,
          ),
        );
      }
      if (M !== N || N !== K) {
        problems.push(
          ruleProblem('square matrix shape', M, N, `${name} tiles chunks into square blocks; this device's matrices are ${describeConfig(units.config)}`),
        );
        return problems;
      }
      const multiple = (what: string, value: number, of: number, why: string) => {
        if (value % of !== 0) problems.push(ruleProblem(`${what} multiple of ${of}`, value, of * Math.ceil(value / of), `${name}: ${what} = ${value} ${why}`));
      };
      multiple('d_k', s.dk, M, `must be a multiple of the matrix size ${M} (linear-chunked-f16 takes any multiple of 4)`);
      multiple('chunk', tiles.chunk, M, `must be a multiple of the matrix size ${M}`);
      multiple('value tile', tiles.dvt, M, `must be a multiple of the matrix size ${M}`);
      if (s.dv % tiles.dvt !== 0)
        problems.push(ruleProblem('value tile divides d_v', tiles.dvt, s.dv, `${name}: value tile ${tiles.dvt} does not divide d_v = ${s.dv}`));
      if (problems.length > 0) return problems;
      const geo = chunkedMmaGeometry(s, tiles, units);
      for (const [pass, sgs] of [
        ['pass 1', MMA_PREPARE_SGS],
        ['pass 2', tiles.sgs],
      ] as const) {
        const wg = sgs * units.subgroupSize;
        problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', wg, `${pass}: ${sgs} subgroups of ${units.subgroupSize}`));
        problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', wg, `${pass}: ${sgs} subgroups of ${units.subgroupSize}`));
      }
      problems.push(
        ...overLimit(
          caps,
          'maxComputeWorkgroupStorageSize',
          geo.prepareBytes,
          `chunk ${tiles.chunk} at d_k = ${s.dk}, d_v = ${s.dv} (pass 1: q and k staged${s.rule === 'delta' ? ', A, T and −w' : ''})`,
        ),
        ...overLimit(
          caps,
          'maxComputeWorkgroupStorageSize',
          geo.recurBytes,
          `chunk ${tiles.chunk}, value tile ${tiles.dvt} at d_k = ${s.dk} (pass 2: the state slice and vnew)`,
        ),
        ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', geo.colTiles, 'value tiles d_v/dvt'),
        ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', geo.chunks, 'chunks ⌈T/C⌉'),
      );
      if (geo.recurRegisters > MMA_MAX_REGISTERS)
        problems.push(
          ruleProblem(
            'registers per invocation',
            geo.recurRegisters,
            MMA_MAX_REGISTERS,
            `${name}: chunk ${tiles.chunk}, value tile ${tiles.dvt}, ${tiles.sgs} subgroups at d_k = ${s.dk}: each lane would hold ${geo.ot} output and ${geo.ht} state tiles' prefetched matrices, about ${geo.recurRegisters} registers, over ${MMA_MAX_REGISTERS} (it would spill to memory)`,
          ),
        );
      for (const b of kernel.scratch(s, tiles)) {
        problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', b.bytes, `scratch ${b.name}`));
        problems.push(...overLimit(caps, 'maxBufferSize', b.bytes, `scratch ${b.name}`));
      }
      return problems;
    },

    bytesMoved(s, tiles) {
      // Pass 1 reads q, k, v, g, β once and writes sh and sf. Pass 2, per value tile, reads q̃, k̃,
      // P and −w (delta) or the padded v (gla) whole, and u (delta) for its columns; it writes o and
      // reads and writes the state once. L2 may absorb the tiles' re-reads; they count.
      const e = emulated ? 4 : 2;
      const geo = chunkedMmaScratch(s, tiles.chunk, e);
      const delta = s.rule === 'delta';
      const tokens = s.batch * s.heads * s.seqK;
      const pass1 = tokens * (2 * s.dk + s.dv + 1 + (delta ? 1 : 0)) * e + geo.shBytes + geo.sfBytes;
      const perTile = geo.padded * ((delta ? 3 : 2) * s.dk + tiles.chunk + (delta ? 0 : s.dv)) * e;
      const pass2 = (s.dv / tiles.dvt) * perTile + (delta ? geo.padded * s.dv * 4 : 0) + tokens * s.dv * e + 2 * s.batch * s.heads * s.dk * s.dv * 4;
      return pass1 + pass2;
    },

    scratch(s, tiles) {
      const geo = chunkedMmaScratch(s, tiles.chunk, emulated ? 4 : 2);
      return [
        { name: `f16 operands (q̃, k̃, P, ${s.rule === 'delta' ? '−w' : 'v'})`, bytes: geo.shBytes },
        { name: s.rule === 'delta' ? 'u and chunk decays' : 'chunk decays', bytes: geo.sfBytes },
      ] satisfies ScratchBuffer[];
    },

    async prepare(device, s, tiles, caps) {
      const units = unitsOf(caps)!;
      const geo = chunkedMmaGeometry(s, tiles, units);
      const code = chunkedMmaShaders(s, tiles, units);
      const label = `${name} ${tilesLabel(tiles)} dk=${s.dk} dv=${s.dv} ${s.rule}`;
      const { prep, recur, compileMs, cached, shaders } = await compileChunkedPasses(device, label, code, { prepare: PREPARE_BINDINGS, recur: RECUR_BINDINGS });
      return {
        compileMs,
        cached,
        shaders,
        bind(t) {
          const params = createParams(device, s, geo);
          const usage = GPUBufferUsage.STORAGE;
          // At least a matrix load's extent: Dawn sizes a binding's minimum by the widest matrix the
          // shader loads from it (gla's sf holds only the decays, and pass 2 still names u there).
          const size = (bytes: number) => Math.max(MIN_SCRATCH_BYTES, Math.ceil(bytes / 16) * 16);
          const sh = device.createBuffer({ label: `${name} f16 operands`, size: size(geo.shBytes), usage });
          const sf = device.createBuffer({ label: `${name} u and decays`, size: size(geo.sfBytes), usage });
          // gla has no β: g stands in (read-only aliasing is allowed).
          const prepGroup = bindBuffers(device, `${name} prepare`, prep.layout, [params, t.q!, t.k!, t.v!, t.g!, t.beta ?? t.g!, sh, sf]);
          const recurGroup = bindBuffers(device, `${name} recur`, recur.layout, [params, sh, sf, t.s0!, t.o!, t.sT!]);
          return chunkedPasses(
            s,
            { pipeline: prep.pipeline, group: prepGroup, workgroupsX: geo.chunks },
            { pipeline: recur.pipeline, group: recurGroup, workgroupsX: geo.colTiles },
            [params, sh, sf],
          );
        },
      };
    },
  };
  return kernel;
}

export const chunkedMmaKernel = makeChunkedMma();
