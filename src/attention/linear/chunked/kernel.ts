import { F16_TOLERANCE, F32_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps } from '../../../gpu/caps.js';
import { bindBuffers, bindingKinds } from '../../../gpu/pipelines.js';
import { resolveIfBlocks } from '../../../wgsl/conditional.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, tilesLabel } from '../../common.js';
import type { ConfigProblem, KernelDescriptor, ScratchBuffer } from '../../types.js';
import { chunkedPasses, compileChunkedPasses, linearProblems, withStorage } from '../common.js';
import { linearProblem } from '../problem.js';
import type { LinearShape } from '../shape.js';
import prepareSource from './prepare.wgsl?raw';
import recurSource from './recur.wgsl?raw';

export type ChunkedTiles = {
  /** Tokens per chunk: the size of the masked intra-chunk matmul and of the delta rule's triangular solve. */
  readonly chunk: number;
  /** Value columns per workgroup of the recurrence pass (its slice of the state). */
  readonly dvt: number;
  /** Invocations per workgroup of the recurrence pass. */
  readonly wg: number;
  /** Feature vec4s of q and w per slab the recurrence stages (at most d_k/4): fewer slabs, fewer barriers per chunk, more workgroup memory. */
  readonly slab: number;
  /** Recurrence fills (q/w slabs, P, k runs) whose global loads are in flight ahead of their turn; 0: none, each loaded where it is staged. */
  readonly prefetch: number;
};

/** Most outputs one invocation keeps in registers (per pass and kind). */
export const CHUNKED_MAX_OWN = 16;
/** Invocations of the (parallel) chunk-preparation pass: one 4×4 block of the C×C Gram matrices each at C = 64. */
export const PREPARE_WG = 256;
/** Features per Gram slab of pass 1, in vec4s (16 features: 8 KiB of k and q at C = 64). */
export const GRAM_SLAB4 = 4;
/** Default feature vec4s of q and w per slab staged by the recurrence pass (32 features: 16 KiB of both at C = 64). */
export const RECUR_SLAB4 = 8;
/** Most vec4s one invocation of the recurrence holds in flight for prefetched fills (64 registers). */
export const CHUNKED_MAX_PREFETCH4 = 16;
/** Recurrence workgroups the default value tile aims for: about two per SM of a 132-SM GPU. */
const TARGET_WORKGROUPS = 256;

export function chunkedGeometry(s: LinearShape, tiles: ChunkedTiles) {
  const { chunk: c, dvt, wg, slab } = tiles;
  const delta = s.rule === 'delta';
  const chunks = Math.ceil(s.seqK / c);
  const bh = s.batch * s.heads;
  const padded = bh * chunks * c;
  const aSize = delta ? c * c : 1;
  // Pass 2 stages q and w in slabs of SL4 feature vec4s, then P, then runs of k rows, through one buffer.
  const dk4 = Math.ceil(s.dk / 4);
  const slab4 = Math.min(slab, dk4);
  const stage4 = Math.max(2 * c * slab4, (c * c) / 4, dk4);
  const kRun = Math.min(c, Math.floor(stage4 / dk4));
  const slabs = Math.ceil(dk4 / slab4);
  const runs = Math.ceil(c / kRun);
  // Per invocation, vec4s of one fill: q of a slab (and as many of w), P, k of a run.
  const fillQ = Math.ceil((c * slab4) / wg);
  const fillP = Math.ceil((c * c) / 4 / wg);
  const fillK = Math.ceil((kRun * dk4) / wg);
  const fill4 = Math.max(2 * fillQ, fillP, fillK);
  return {
    slab4,
    stage4,
    /** k rows per staged run of the state update. */
    kRun,
    /** Staging fills per chunk of the recurrence, in order: q/w slabs, P, k runs (all of them, even past T). */
    slabs,
    runs,
    fills: slabs + 1 + runs,
    fillQ,
    fillP,
    fillK,
    /** Register slot of one prefetched fill, in vec4s. */
    fill4,
    /** vec4s per invocation held for fills in flight. */
    prefetch4: tiles.prefetch * fill4,
    chunks,
    colTiles: Math.ceil(s.dv / dvt),
    own: Math.ceil((c * dvt) / wg),
    ownH: Math.ceil(((s.dk / 4) * dvt) / wg),
    aSize,
    /** Pass 1: A and T (delta), the transposed k and q Gram slabs, gcum, β, 1/‖k‖, 1/‖q‖. */
    prepareBytes: (2 * aSize + 8 * GRAM_SLAB4 * c + 4 * c) * 4,
    /** Pass 2: the state slice, vnew, the decay factors and the staging buffer. */
    recurBytes: (s.dk * dvt + c * dvt) * 4 + c * 16 + stage4 * 16,
    /** Floats of P (C×C per chunk) before fac (4 per chunk-padded token) in the pf buffer. */
    fac0: padded * c,
    pfFloats: padded * (c + 4),
    wFloats: delta ? padded * s.dk : 4,
    uFloats: delta ? padded * s.dv : 4,
  };
}

export function chunkedShaders(s: LinearShape, tiles: ChunkedTiles): { prepare: string; recur: string } {
  const geo = chunkedGeometry(s, tiles);
  const delta = s.rule === 'delta';
  const prepare = specialize(prepareSource, {
    DK: s.dk,
    DV: s.dv,
    C: tiles.chunk,
    WG: PREPARE_WG,
    SL4: GRAM_SLAB4,
    DELTA: delta,
    SCALE: s.scale,
    A_SIZE: geo.aSize,
    QK_GROUP: s.heads / s.qkHeads,
  });
  const prefetch = tiles.prefetch > 0;
  const pipeline: Record<string, number> = prefetch
    ? { NS: geo.slabs, NR: geo.runs, NF: geo.fills, PD: tiles.prefetch, PFQ: geo.fillQ, PFP: geo.fillP, PFK: geo.fillK, PFN: geo.fill4 }
    : {};
  let recur = specialize(resolveIfBlocks(recurSource, { PREFETCH: prefetch }, 'recur.wgsl'), {
    ...pipeline,
    DK: s.dk,
    DV: s.dv,
    DVT: tiles.dvt,
    C: tiles.chunk,
    WG: tiles.wg,
    OWN: geo.own,
    OWNH: geo.ownH,
    DELTA: delta,
    SL4: geo.slab4,
    STAGE4: geo.stage4,
    KJ: geo.kRun,
    QK_GROUP: s.heads / s.qkHeads,
  });
  // gla's binding 3 is v itself, in the stored element type.
  if (!delta) recur = recur.replace(/^alias uv_elem = f32;$/m, 'alias uv_elem = elem;');
  return {
    prepare: withStorage(unrollLoops(prepare, {}), s.storage),
    recur: withStorage(unrollLoops(recur, { OWN: geo.own, OWNH: geo.ownH, ...pipeline }), s.storage),
  };
}

/** Uniform of both passes: T, chunks per head, and where fac starts in pf. */
function createParams(device: GPUDevice, s: LinearShape, geo: ReturnType<typeof chunkedGeometry>): GPUBuffer {
  const buffer = device.createBuffer({ label: 'linear-chunked params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, new Uint32Array([s.seqK, geo.chunks, geo.fac0, 0]));
  return buffer;
}

// Pass 1 reads q, k, v, g and β and writes P/fac, w and u; pass 2 reads q, k, u (or v), s0, P/fac and w
// and writes o and sT.
const PREPARE_BINDINGS = bindingKinds(5, 3);
const RECUR_BINDINGS = bindingKinds(6, 2);

function makeChunked(storage: 'f32' | 'f16'): KernelDescriptor<LinearShape, ChunkedTiles> {
  const f16 = storage === 'f16';
  const name = f16 ? 'linear-chunked-f16' : 'linear-chunked';
  const kernel: KernelDescriptor<LinearShape, ChunkedTiles> = {
    name,
    problem: linearProblem,
    title: `Chunked (GLA; gated DeltaNet in WY form)${f16 ? ', f16 storage' : ''}`,
    description:
      'Two passes: every chunk of C tokens in parallel (decays, the masked C×C scores, and for the delta rule the triangular solve giving the WY factors w, u), then the state recurrence across chunks per head and value tile, which also writes the output.',
    tunables: [
      { key: 'chunk', label: 'Chunk (C)', help: 'Tokens per chunk: C² work inside a chunk against T/C sequential steps.', values: [4, 8, 16, 32, 64] },
      {
        key: 'dvt',
        label: 'Value tile',
        help: 'State columns per recurrence workgroup: narrower tiles make more workgroups and re-read q, k, w more often.',
        values: [4, 8, 16, 32, 64],
      },
      { key: 'wg', label: 'Workgroup size', help: 'Invocations per recurrence workgroup.', values: [64, 128, 256, 512] },
      {
        key: 'slab',
        label: 'q/w slab (vec4s)',
        help: 'Feature vec4s of q and w the recurrence stages per slab (at most d_k/4): wider slabs take fewer phases, so fewer barriers and global round trips, per chunk, at the cost of workgroup memory (32 at d_k = 128, C = 32: 32 KiB of staging).',
        values: [8, 16, 32],
        // Records before slab and prefetch existed ran slab=8, prefetch=0's shader, byte for byte
        // once GVA's lines are taken out (test/linear-wgsl.test.ts).
        absent: RECUR_SLAB4,
      },
      {
        key: 'prefetch',
        label: 'Prefetch',
        help: "Recurrence staging fills (q/w slabs, P, k runs) loaded into registers ahead of their turn, so their latency overlaps the phases before; 0 loads each fill where it is staged. At most the chunk's fill count (at d_k = 128 and the default chunks, 7 with slabs of 8 vec4s, 3 with 32); costs registers.",
        values: [0, 1, 2, 4, 7],
        absent: 0,
      },
    ],
    requiredFeatures: f16 ? ['shader-f16'] : [],
    precision: storage,
    // Reassociating T sequential updates into chunk matmuls keeps f32 at ~1e-6 relative (tests bound
    // the RMS at 1e-5); f16 storage rounds inputs and o to half (fla's bf16 bound: 5e-3 relative RMS).
    tolerance: f16 ? F16_TOLERANCE : F32_TOLERANCE,
    // Pipelined and not, each on every shape (the first configuration of each prefetch value). At
    // d_k = 32 a chunk stages three fills (one slab, P, one k run), so prefetch 2 reaches into the
    // next chunk; at d_k = 64 four, all prefetched a chunk ahead by 4, or three with one wide slab;
    // d_k = 104 has four q/w slabs (the last 2 vec4s wide) and two k runs (the last short), two slabs
    // of 16 and 10 vec4s, or one of 26; d_k = 128 is the default tiles' H200 shape (seven fills),
    // and one 32-vec4 slab per chunk.
    conformance: [
      {
        fixed: { storage },
        tiles: [
          { chunk: 16, dvt: 16, wg: 256, prefetch: 1 },
          { chunk: 16, dvt: 16, wg: 256, prefetch: 0 },
          { chunk: 8, dvt: 32, wg: 64, prefetch: 0 },
          { chunk: 32, dvt: 4, wg: 128, prefetch: 2 },
          { chunk: 8, dvt: 32, wg: 64, prefetch: 1 },
        ],
      },
      {
        fixed: { storage, dk: 64, dv: 64 },
        tiles: [
          { chunk: 16, dvt: 16, wg: 256, prefetch: 0 },
          { chunk: 16, dvt: 16, wg: 256, prefetch: 4 },
          { chunk: 16, dvt: 16, wg: 256, slab: 16, prefetch: 1 },
        ],
      },
      {
        fixed: { storage, dk: 104, dv: 24 },
        tiles: [
          { chunk: 16, dvt: 8, wg: 64, prefetch: 4 },
          { chunk: 16, dvt: 8, wg: 128, slab: 16, prefetch: 2 },
          { chunk: 16, dvt: 8, wg: 128, slab: 32, prefetch: 0 },
        ],
      },
      {
        fixed: { storage, dk: 128, dv: 16 },
        tiles: [
          { chunk: 32, dvt: 8, wg: 256, prefetch: 7 },
          { chunk: 16, dvt: 8, wg: 256, slab: 32, prefetch: 2 },
        ],
      },
    ],

    defaultTiles(s, caps) {
      const most = Math.min(256, caps.limits.maxComputeInvocationsPerWorkgroup, caps.limits.maxComputeWorkgroupSizeX);
      // Measured on the H200 (T = 16384, H = 16, d = 128, 24 configurations): value tiles of 8 with
      // 256 invocations won for both rules (delta 7.6 ms, gla 5.2 ms); delta's chunk pass grows as C³
      // (its triangular solve: 1.6 ms at C = 32, 6.3 ms at 64) while gla's stays at 0.2 ms, so delta
      // takes C = 32 and gla C = 64. The value tile is the widest that still gives TARGET_WORKGROUPS
      // recurrence workgroups (8 at B·H = 16, d_v = 128).
      const dvt = [32, 16, 8, 4].find((d) => s.batch * s.heads * Math.ceil(s.dv / d) >= TARGET_WORKGROUPS) ?? 4;
      // The recurrence's loads go out as many fills ahead as the chunk has and the registers allow:
      // on the H200 at that shape the recurrence pass took 6.20 ms without prefetch and 4.08, 3.95,
      // 3.86 and 3.68 ms with 1, 2, 4 and 7 fills ahead (delta, f32); gla 5.05 → 2.97 ms at 4; wider
      // slabs (32 vec4s: 3 fills instead of 7) were slower at every depth
      // (bench/results/h200-linear-prefetch-*.json).
      const chunks = s.rule === 'delta' ? [32, 16, 64, 8, 4] : [64, 32, 16, 8, 4];
      for (const chunk of chunks)
        for (const prefetch of [7, 4, 2, 1, 0]) {
          const tiles = { chunk, dvt, wg: most, slab: RECUR_SLAB4, prefetch };
          if (kernel.check(s, tiles, caps).length === 0) return tiles;
        }
      return { chunk: 16, dvt, wg: Math.min(most, 64), slab: RECUR_SLAB4, prefetch: 1 };
    },

    check(s, tiles, caps) {
      const geo = chunkedGeometry(s, tiles);
      const problems: ConfigProblem[] = linearProblems(s, caps, storage, name, s.batch * s.heads);
      if (s.dk % 4 !== 0) {
        problems.push(
          ruleProblem(
            'd_k multiple of 4',
            s.dk,
            4 * Math.ceil(s.dk / 4),
            `${name} loads q, k and w as vec4: d_k = ${s.dk} must be a multiple of 4 (linear-recurrent takes any d_k)`,
          ),
        );
      }
      for (const wg of [tiles.wg, PREPARE_WG]) {
        problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', wg, `Workgroup size ${wg}`));
        problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', wg, `Workgroup size ${wg}`));
      }
      if (tiles.dvt > tiles.wg)
        problems.push(
          ruleProblem(
            'value tile ≤ workgroup',
            tiles.dvt,
            tiles.wg,
            `value tile ${tiles.dvt} over workgroup size ${tiles.wg}: each invocation owns one column`,
          ),
        );
      problems.push(
        ...overLimit(
          caps,
          'maxComputeWorkgroupStorageSize',
          geo.prepareBytes,
          `chunk ${tiles.chunk} (pass 1: A and T, C×C each${s.rule === 'delta' ? '' : ' — none for gla'}, and the Gram slabs)`,
        ),
        ...overLimit(
          caps,
          'maxComputeWorkgroupStorageSize',
          geo.recurBytes,
          `chunk ${tiles.chunk}, value tile ${tiles.dvt}, q/w slab ${geo.slab4} vec4s at d_k = ${s.dk} (pass 2: state slice, vnew and staging)`,
        ),
        ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', geo.colTiles, 'value tiles ⌈d_v/dvt⌉'),
        ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', geo.chunks, 'chunks ⌈T/C⌉'),
      );
      for (const b of kernel.scratch(s, tiles)) {
        problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', b.bytes, `scratch ${b.name}`));
        problems.push(...overLimit(caps, 'maxBufferSize', b.bytes, `scratch ${b.name}`));
      }
      const owns: [string, number][] = [
        ['(token, column) outputs per invocation', geo.own],
        ['state units per invocation', geo.ownH],
      ];
      if (tiles.prefetch > geo.fills)
        problems.push(
          ruleProblem(
            'prefetch ≤ fills per chunk',
            tiles.prefetch,
            geo.fills,
            `prefetch ${tiles.prefetch} over the ${geo.fills} staging fills of a chunk (${geo.slabs} q/w slabs, P, ${geo.runs} k runs at chunk ${tiles.chunk}, d_k = ${s.dk})`,
          ),
        );
      if (geo.prefetch4 > CHUNKED_MAX_PREFETCH4)
        problems.push(
          ruleProblem(
            'prefetched vec4s per invocation',
            geo.prefetch4,
            CHUNKED_MAX_PREFETCH4,
            `prefetch ${tiles.prefetch} at chunk ${tiles.chunk}, workgroup ${tiles.wg}, d_k = ${s.dk}: ${geo.prefetch4} vec4s in registers per invocation (${geo.fill4} per fill), over ${CHUNKED_MAX_PREFETCH4}`,
          ),
        );
      for (const [what, n] of owns) {
        if (n > CHUNKED_MAX_OWN)
          problems.push(
            ruleProblem(
              what,
              n,
              CHUNKED_MAX_OWN,
              `chunk ${tiles.chunk}, value tile ${tiles.dvt}, workgroup ${tiles.wg} at d_k = ${s.dk}: ${n} ${what}, over ${CHUNKED_MAX_OWN}`,
            ),
          );
      }
      return problems;
    },

    bytesMoved(s, tiles) {
      // Pass 1 reads q, k, v, g, β (k up to twice: Gram, then w) and writes P, fac, and for delta
      // w and u in f32. Pass 2, per value tile, reads q, k, P, fac and w (delta) again, and u
      // (delta) or v (gla) and o once; the state once in and out. L2 may absorb the tile re-reads
      // (and, with GVA, the value heads' re-reads of their shared q and k); they count, as the worst case.
      const e = f16 ? 2 : 4;
      const geo = chunkedGeometry(s, tiles);
      const delta = s.rule === 'delta';
      const tokens = s.batch * s.heads * s.seqK;
      const padded = s.batch * s.heads * geo.chunks * tiles.chunk;
      const pass1 = tokens * ((2 * s.dk + (delta ? s.dk : 0) + s.dv + 1 + (delta ? 1 : 0)) * e) + geo.pfFloats * 4 + (delta ? padded * (s.dk + s.dv) * 4 : 0);
      const perTile = tokens * 2 * s.dk * e + geo.pfFloats * 4 + (delta ? padded * s.dk * 4 : 0);
      const pass2 = geo.colTiles * perTile + (delta ? padded * s.dv * 4 : tokens * s.dv * e) + tokens * s.dv * e + 2 * s.batch * s.heads * s.dk * s.dv * 4;
      return pass1 + pass2;
    },

    scratch(s, tiles) {
      const geo = chunkedGeometry(s, tiles);
      return [
        { name: 'P and decay factors', bytes: geo.pfFloats * 4 },
        { name: 'w (WY keys)', bytes: geo.wFloats * 4 },
        { name: 'u (WY values)', bytes: geo.uFloats * 4 },
      ] satisfies ScratchBuffer[];
    },

    async prepare(device, s, tiles, _caps: DeviceCaps) {
      const geo = chunkedGeometry(s, tiles);
      const code = chunkedShaders(s, tiles);
      const label = `${name} ${tilesLabel(tiles)} dk=${s.dk} dv=${s.dv} ${s.rule}`;
      const { prep, recur, compileMs, cached, shaders } = await compileChunkedPasses(device, label, code, { prepare: PREPARE_BINDINGS, recur: RECUR_BINDINGS });
      return {
        compileMs,
        cached,
        shaders,
        bind(t) {
          const params = createParams(device, s, geo);
          const usage = GPUBufferUsage.STORAGE;
          const pf = device.createBuffer({ label: `${name} P and fac`, size: geo.pfFloats * 4, usage });
          const w = device.createBuffer({ label: `${name} w`, size: geo.wFloats * 4, usage });
          const u = device.createBuffer({ label: `${name} u`, size: geo.uFloats * 4, usage });
          // gla has no β: g stands in (read-only aliasing is allowed); its w and u are 16-byte placeholders.
          const prepGroup = bindBuffers(device, `${name} prepare`, prep.layout, [params, t.q!, t.k!, t.v!, t.g!, t.beta ?? t.g!, pf, w, u]);
          const delta = s.rule === 'delta';
          const recurGroup = bindBuffers(device, `${name} recur`, recur.layout, [params, t.q!, t.k!, delta ? u : t.v!, t.s0!, pf, w, t.o!, t.sT!]);
          return chunkedPasses(
            s,
            { pipeline: prep.pipeline, group: prepGroup, workgroupsX: geo.chunks },
            { pipeline: recur.pipeline, group: recurGroup, workgroupsX: geo.colTiles },
            [params, pf, w, u],
          );
        },
      };
    },
  };
  return kernel;
}

export const chunkedKernel = makeChunked('f32');
export const chunkedF16Kernel = makeChunked('f16');
