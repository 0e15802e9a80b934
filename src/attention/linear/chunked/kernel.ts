import { F16_TOLERANCE, F32_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps } from '../../../gpu/caps.js';
import { bindBuffers, compilePipeline } from '../../../gpu/pipelines.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, tilesLabel } from '../../common.js';
import type { ConfigProblem, KernelDescriptor } from '../../types.js';
import { LINEAR_BINDING_KINDS, createSeqParams, linearBindings, linearProblems, withStorage } from '../common.js';
import { linearProblem } from '../problem.js';
import type { LinearShape } from '../shape.js';
import source from './chunked.wgsl?raw';

export type ChunkedTiles = {
  /** Tokens per chunk: the size of the masked intra-chunk matmul and of the delta rule's triangular solve. */
  readonly chunk: number;
  /** Value columns per workgroup (its slice of the state). */
  readonly dvt: number;
  /** Invocations per workgroup. */
  readonly wg: number;
};

/** Most (token, column) outputs one invocation keeps in registers per chunk. */
export const CHUNKED_MAX_OWN = 16;

export function chunkedGeometry(s: LinearShape, tiles: ChunkedTiles) {
  const { chunk: c, dvt, wg } = tiles;
  const delta = s.rule === 'delta';
  // State slice, K and Q of the chunk, V, P, A (delta), and six per-token vectors (G, 2^G,
  // 2^(G_last−G), β, 1/‖k‖, 1/‖q‖).
  const floats = s.dk * dvt + 2 * c * s.dk + c * dvt + c * c + (delta ? c * c : 1) + 6 * c;
  return { own: Math.ceil((c * dvt) / wg), colTiles: Math.ceil(s.dv / dvt), workgroupBytes: floats * 4, aSize: delta ? c * c : 1 };
}

export function chunkedShader(s: LinearShape, tiles: ChunkedTiles): string {
  const geo = chunkedGeometry(s, tiles);
  const code = specialize(source, {
    DK: s.dk,
    DV: s.dv,
    DVT: tiles.dvt,
    C: tiles.chunk,
    WG: tiles.wg,
    OWN: geo.own,
    DELTA: s.rule === 'delta',
    SCALE: s.scale,
    A_SIZE: geo.aSize,
  });
  return withStorage(unrollLoops(code, { OWN: geo.own }), s.storage);
}

/** Preferred tiles, best first: longer chunks halve the sequential chunk walk, narrower tiles make more workgroups. */
const CANDIDATES: readonly Omit<ChunkedTiles, 'wg'>[] = [
  { chunk: 32, dvt: 16 },
  { chunk: 16, dvt: 16 },
  { chunk: 16, dvt: 8 },
  { chunk: 8, dvt: 8 },
  { chunk: 4, dvt: 4 },
];

function makeChunked(storage: 'f32' | 'f16'): KernelDescriptor<LinearShape, ChunkedTiles> {
  const f16 = storage === 'f16';
  const name = f16 ? 'linear-chunked-f16' : 'linear-chunked';
  const kernel: KernelDescriptor<LinearShape, ChunkedTiles> = {
    name,
    problem: linearProblem,
    title: `Chunked (GLA; gated DeltaNet in WY form)${f16 ? ', f16 storage' : ''}`,
    description:
      'A workgroup per head and value tile walks chunks of C tokens: a masked, decayed C×C matmul inside the chunk (plus the delta rule’s triangular solve), the carried state across chunks.',
    tunables: [
      { key: 'chunk', label: 'Chunk (C)', help: 'Tokens per chunk: C² work inside a chunk against T/C sequential steps.', values: [4, 8, 16, 32, 64] },
      { key: 'dvt', label: 'Value tile', help: 'State columns per workgroup (the state slice lives in workgroup memory).', values: [4, 8, 16, 32, 64] },
      { key: 'wg', label: 'Workgroup size', help: 'Invocations per workgroup.', values: [64, 128, 256, 512] },
    ],
    requiredFeatures: f16 ? ['shader-f16'] : [],
    precision: storage,
    // Reassociating T sequential updates into chunk matmuls keeps f32 at ~1e-6 relative (tests bound
    // the RMS at 1e-5); f16 storage rounds inputs and o to half (fla's bf16 bound: 5e-3 relative RMS).
    tolerance: f16 ? F16_TOLERANCE : F32_TOLERANCE,
    conformance: [
      {
        fixed: { storage },
        tiles: [
          { chunk: 16, dvt: 16, wg: 256 },
          { chunk: 32, dvt: 4, wg: 128 },
          { chunk: 8, dvt: 32, wg: 64 },
        ],
      },
      { fixed: { storage, dk: 64, dv: 64 }, tiles: [{ chunk: 16, dvt: 16, wg: 256 }] },
    ],

    defaultTiles(s, caps) {
      const wg = Math.min(256, caps.limits.maxComputeInvocationsPerWorkgroup, caps.limits.maxComputeWorkgroupSizeX);
      for (const c of CANDIDATES) {
        const tiles = { ...c, wg };
        if (kernel.check(s, tiles, caps).length === 0) return tiles;
      }
      return { ...CANDIDATES[0]!, wg };
    },

    check(s, tiles, caps) {
      const geo = chunkedGeometry(s, tiles);
      const problems: ConfigProblem[] = linearProblems(s, caps, storage, name, s.batch * s.heads);
      problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', tiles.wg, `Workgroup size ${tiles.wg}`));
      problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', tiles.wg, `Workgroup size ${tiles.wg}`));
      problems.push(
        ...overLimit(
          caps,
          'maxComputeWorkgroupStorageSize',
          geo.workgroupBytes,
          `chunk ${tiles.chunk}, value tile ${tiles.dvt} at d_k = ${s.dk} (state slice, K, Q, V, P${s.rule === 'delta' ? ', A' : ''})`,
        ),
      );
      problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', geo.colTiles, 'value tiles ⌈d_v/dvt⌉'));
      if (geo.own > CHUNKED_MAX_OWN) {
        problems.push(
          ruleProblem('outputs per invocation', geo.own, CHUNKED_MAX_OWN, `chunk × value tile / wg = ${tiles.chunk} × ${tiles.dvt} / ${tiles.wg} → ${geo.own} outputs per invocation, over ${CHUNKED_MAX_OWN}`),
        );
      }
      return problems;
    },

    bytesMoved(s, tiles) {
      // Every value tile of a head reads the head's q, k, g, β (so they count colTiles times); v
      // and o once; the state once in and once out.
      const e = f16 ? 2 : 4;
      const { colTiles } = chunkedGeometry(s, tiles);
      const perToken = colTiles * (2 * s.dk + 1 + (s.rule === 'delta' ? 1 : 0)) + 2 * s.dv;
      return s.batch * s.heads * (2 * s.dk * s.dv * 4 + s.seqK * perToken * e);
    },

    scratch() {
      return [];
    },

    async prepare(device, s, tiles, _caps: DeviceCaps) {
      const geo = chunkedGeometry(s, tiles);
      const compiled = await compilePipeline(device, {
        label: `${name} ${tilesLabel(tiles)} dk=${s.dk} dv=${s.dv} ${s.rule}`,
        code: chunkedShader(s, tiles),
        bindings: LINEAR_BINDING_KINDS,
      });
      return {
        compileMs: compiled.cached ? 0 : compiled.compileMs,
        cached: compiled.cached,
        shaders: [{ label: compiled.label, code: compiled.code }],
        bind(tensors) {
          const params = createSeqParams(device, s);
          const group = bindBuffers(device, name, compiled.layout, linearBindings(params, tensors));
          return {
            encode(pass) {
              pass.setPipeline(compiled.pipeline);
              pass.setBindGroup(0, group);
              pass.dispatchWorkgroups(geo.colTiles, s.batch * s.heads);
            },
            destroy() {
              params.destroy();
            },
          };
        },
      };
    },
  };
  return kernel;
}

export const chunkedKernel = makeChunked('f32');
export const chunkedF16Kernel = makeChunked('f16');
