import { F32_TOLERANCE } from '../compare.js';
import type { DeviceCaps } from '../gpu/caps.js';
import { bindBuffers, compilePipeline } from '../gpu/pipelines.js';
import { composeShader } from '../shaders.js';
import type { ResolvedShape } from '../shape.js';
import { specialize } from '../specialize.js';
import { attentionFlops, overLimit, ruleProblem, tensorProblems } from './common.js';
import type { ConfigProblem, KernelDescriptor, Tiles } from './types.js';

/** Largest per-invocation register tile (scores + output accumulators, in floats) we let compile. */
export const FLASH_MAX_REGISTER_FLOATS = 256;

/** Quantities derived from a flash configuration; the shader derives the same ones. */
export interface FlashGeometry {
  rowGroups: number;
  /** Query rows per invocation. */
  tm: number;
  /** Keys per invocation per tile. */
  tn: number;
  /** vec4 output columns per invocation. */
  td4: number;
  workgroupBytes: number;
  registerFloats: number;
  reduction: 'subgroup' | 'workgroup' | 'none';
}

const pad16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

export function flashGeometry(headDim: number, tiles: Tiles): FlashGeometry {
  const { br, bc, wg, rowThreads, subgroups } = tiles as Record<'br' | 'bc' | 'wg' | 'rowThreads' | 'subgroups', number>;
  const rowGroups = wg / rowThreads;
  const tm = br / rowGroups;
  const tn = bc / rowThreads;
  const d4 = headDim / 4;
  const td4 = d4 / rowThreads;
  const tm4 = Math.ceil(tm / 4);
  const reduction = rowThreads === 1 ? 'none' : subgroups ? 'subgroup' : 'workgroup';
  // q_tile, kv_tile and p_tile of shaders/flash_attention.wgsl, plus row_partials of the
  // workgroup-memory reduction.
  const workgroupBytes =
    pad16(br * d4 * 16) + pad16(bc * d4 * 16) + pad16(bc * rowGroups * tm4 * 16) + (reduction === 'workgroup' ? pad16(br * rowThreads * 4) : 0);
  return { rowGroups, tm, tn, td4, workgroupBytes, registerFloats: tm * tn + 4 * tm * td4, reduction };
}

/**
 * Preferred configurations by head dim, tried in order; the first that the device can run is
 * the default. Then any configuration that fits, largest tiles first.
 */
const PREFERRED: Record<number, Tiles[]> = {
  32: [{ br: 64, bc: 64, wg: 64, rowThreads: 8 }],
  64: [{ br: 64, bc: 64, wg: 64, rowThreads: 8 }],
  128: [{ br: 64, bc: 16, wg: 64, rowThreads: 8 }],
};

const BR_VALUES = [4, 8, 16, 32, 64, 128] as const;
const BC_VALUES = [4, 8, 16, 32, 64, 128] as const;
const WG_VALUES = [16, 32, 64, 128, 256, 512, 1024] as const;
const ROW_THREAD_VALUES = [1, 2, 4, 8, 16, 32] as const;

export const flashKernel: KernelDescriptor = {
  name: 'flash',
  title: 'FlashAttention-2 (tiled online softmax, f32)',
  description:
    'One workgroup per tile of Br query rows; K/V tiles of Bc rows stream through workgroup memory with a running row max and sum. S and P never reach global memory.',
  shaderFiles: ['params.wgsl', 'flash_attention.wgsl', 'flash_row_reduce_subgroup.wgsl', 'flash_row_reduce_workgroup.wgsl'],
  tunables: [
    { key: 'br', label: 'Query tile (Br)', help: 'Query rows per workgroup, kept in workgroup memory for the whole run.', values: BR_VALUES },
    { key: 'bc', label: 'Key tile (Bc)', help: 'Key/value rows staged in workgroup memory per step.', values: BC_VALUES },
    { key: 'wg', label: 'Workgroup size', help: 'Invocations per workgroup.', values: WG_VALUES },
    {
      key: 'rowThreads',
      label: 'Threads per row',
      help: 'Invocations that share a query row: each takes Bc/this keys and d/this output columns; the row max and sum are reduced across them.',
      values: ROW_THREAD_VALUES,
    },
    {
      key: 'subgroups',
      label: 'Subgroup reductions',
      help: '1: reduce row max and sum with subgroup shuffles (needs the subgroups feature); 0: through workgroup memory.',
      values: [0, 1],
    },
  ],
  requiredFeatures: [],
  precision: 'f32',
  tolerance: F32_TOLERANCE,

  defaultTiles(shape, caps) {
    const subgroups = canUseSubgroups(caps) ? 1 : 0;
    const candidates: Tiles[] = [
      ...(PREFERRED[shape.headDim] ?? PREFERRED[64]!).map((t) => ({ ...t, subgroups })),
      ...fallbackCandidates(subgroups),
    ];
    for (const tiles of candidates) {
      const resolved = { ...tiles, subgroups: tiles.subgroups && tiles.rowThreads! <= caps.subgroupMinSize ? 1 : 0 };
      if (flashKernel.check(shape, resolved, caps).length === 0) return resolved;
    }
    // Nothing fits (e.g. an odd head dim): return the first preference so check() can say why.
    return { ...PREFERRED[64]![0]!, subgroups };
  },

  check(s, tiles, caps) {
    const problems: ConfigProblem[] = [...tensorProblems(s, caps)];
    const tensorCount = problems.length;
    const { br, bc, wg, rowThreads, subgroups } = tiles as Record<string, number>;
    if (s.headDim % 4 !== 0) {
      problems.push(ruleProblem('headDim % 4', s.headDim % 4, 0, `flash reads rows as vec4: headDim must be a multiple of 4, got ${s.headDim}`));
      return problems;
    }
    const d4 = s.headDim / 4;
    if (rowThreads! > wg!) {
      problems.push(ruleProblem('rowThreads ≤ wg', rowThreads!, wg!, `Threads per row (${rowThreads}) cannot exceed the workgroup size (${wg})`));
      return problems;
    }
    const rowGroups = wg! / rowThreads!;
    if (d4 % rowThreads! !== 0) {
      problems.push(ruleProblem('headDim/4 % rowThreads', rowThreads!, d4, `Threads per row (${rowThreads}) must divide headDim/4 = ${d4}`));
    }
    if (br! % rowGroups !== 0) {
      problems.push(
        ruleProblem('Br % (wg / rowThreads)', br!, rowGroups, `Query tile Br = ${br} must be a multiple of wg / rowThreads = ${rowGroups} row groups`),
      );
    }
    if (bc! % rowThreads! !== 0) {
      problems.push(ruleProblem('Bc % rowThreads', bc!, rowThreads!, `Key tile Bc = ${bc} must be a multiple of Threads per row = ${rowThreads}`));
    }
    // The geometry below is meaningless when the tiles do not divide.
    if (problems.length > tensorCount) return problems;
    const geo = flashGeometry(s.headDim, tiles);
    problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', wg!, `Workgroup size ${wg}`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', wg!, `Workgroup size ${wg}`));
    problems.push(
      ...overLimit(caps, 'maxComputeWorkgroupStorageSize', geo.workgroupBytes, `Br = ${br}, Bc = ${bc} at d = ${s.headDim} (Q tile, K/V tile, P tile${geo.reduction === 'workgroup' ? ', row partials' : ''})`),
    );
    if (geo.registerFloats > FLASH_MAX_REGISTER_FLOATS) {
      problems.push(
        ruleProblem(
          'registers per invocation',
          geo.registerFloats,
          FLASH_MAX_REGISTER_FLOATS,
          `each invocation would hold ${geo.tm}×${geo.tn} scores and ${geo.tm}×${geo.td4 * 4} outputs = ${geo.registerFloats} floats, over ${FLASH_MAX_REGISTER_FLOATS} (it would spill to memory)`,
        ),
      );
    }
    if (subgroups) {
      if (!caps.features.includes('subgroups')) {
        problems.push(ruleProblem('feature subgroups', 1, 0, 'Subgroup reductions need the "subgroups" feature, which this device lacks'));
      } else if (rowThreads! > caps.subgroupMinSize) {
        problems.push(
          ruleProblem('subgroupMinSize', rowThreads!, caps.subgroupMinSize, `Subgroup reductions need Threads per row (${rowThreads}) ≤ the minimum subgroup size (${caps.subgroupMinSize})`),
        );
      }
    }
    problems.push(
      ...overLimit(caps, 'maxComputeWorkgroupsPerDimension', Math.ceil(s.seqQ / br!), `ceil(seqQ / Br) = ${Math.ceil(s.seqQ / br!)} query tiles`),
    );
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.heads, `heads = ${s.heads}`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.batch, `batch = ${s.batch}`));
    if (caps.limits.maxStorageBuffersPerShaderStage < 4) {
      problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 4, 'Q, K, V and O'));
    }
    return problems;
  },

  flops: attentionFlops,

  bytesMoved(s, tiles) {
    const br = tiles.br!;
    const bc = tiles.bc!;
    const rowBytes = s.headDim * 4;
    let kvRows = 0;
    for (let row0 = 0; row0 < s.seqQ; row0 += br) {
      const rowEnd = Math.min(row0 + br, s.seqQ);
      const kEnd = s.causal ? Math.max(0, Math.min(s.seqK, rowEnd + s.seqK - s.seqQ)) : s.seqK;
      kvRows += Math.min(Math.ceil(kEnd / bc) * bc, s.seqK);
    }
    const perHead = 2 * s.seqQ * rowBytes + 2 * kvRows * rowBytes;
    return s.batch * s.heads * perHead;
  },

  scratch() {
    return [];
  },

  async prepare(device, s, tiles) {
    const geo = flashGeometry(s.headDim, tiles);
    const reduceFile = geo.reduction === 'subgroup' ? 'flash_row_reduce_subgroup.wgsl' : 'flash_row_reduce_workgroup.wgsl';
    const code = specialize(composeShader(['params.wgsl', reduceFile, 'flash_attention.wgsl']), {
      HEAD_DIM: s.headDim,
      BR: tiles.br!,
      BC: tiles.bc!,
      WORKGROUP_SIZE: tiles.wg!,
      ROW_THREADS: tiles.rowThreads!,
    });
    const compiled = await compilePipeline(device, {
      label: `flash br=${tiles.br} bc=${tiles.bc} wg=${tiles.wg} rowThreads=${tiles.rowThreads} ${geo.reduction} d=${s.headDim}`,
      code,
      bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
    });
    return {
      compileMs: compiled.cached ? 0 : compiled.compileMs,
      cached: compiled.cached,
      bind(buffers) {
        const group = bindBuffers(device, 'flash', compiled.layout, [buffers.params, buffers.q, buffers.k, buffers.v, buffers.o]);
        return {
          encode(pass) {
            pass.setPipeline(compiled.pipeline);
            pass.setBindGroup(0, group);
            pass.dispatchWorkgroups(Math.ceil(s.seqQ / tiles.br!), s.heads, s.batch);
          },
          destroy() {},
        };
      },
    };
  },
};

export function canUseSubgroups(caps: DeviceCaps): boolean {
  return caps.features.includes('subgroups') && caps.subgroupMinSize >= 2;
}

/** Every configuration, biggest tiles first, for devices where no preferred one fits. */
function fallbackCandidates(subgroups: number): Tiles[] {
  const out: Tiles[] = [];
  for (const br of [...BR_VALUES].reverse())
    for (const bc of [...BC_VALUES].reverse())
      for (const wg of [128, 64, 256, 32, 16])
        for (const rowThreads of [4, 8, 2, 16, 1, 32]) out.push({ br, bc, wg, rowThreads, subgroups });
  return out;
}
