import { F32_TOLERANCE } from '../../../harness/compare.js';
import type { DeviceCaps } from '../../../gpu/caps.js';
import { bindBuffers, compilePipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import params from '../params.wgsl?raw';
import pvSource from './pv.wgsl?raw';
import scoresSource from './scores.wgsl?raw';
import softmaxSource from './softmax.wgsl?raw';
import type { ResolvedShape } from '../shape.js';
import { specialize } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, spreadGrid } from '../../common.js';
import type { ConfigProblem, KernelDescriptor } from '../../types.js';
import { tensorProblems } from '../common.js';
import { createParamsBuffer } from '../params.js';
import { denseProblem } from '../problem.js';

const WORKGROUP_SIZES = [32, 64, 128, 256, 512, 1024] as const;

/** Bytes of S (and of P): one float per (query, key) pair of every head. */
export function naiveScoreBytes(s: ResolvedShape): number {
  return s.batch * s.heads * s.seqQ * s.seqK * 4;
}

/**
 * Standard attention in three passes over global memory: S = scale·QKᵀ (masked), P = softmax(S),
 * O = PV. S and P are N² per head: this is the memory wall FlashAttention removes.
 */
export type NaiveTiles = { readonly wgScores: number; readonly wgSoftmax: number; readonly wgPv: number };

export const naiveKernel: KernelDescriptor<ResolvedShape, NaiveTiles> = {
  name: 'naive',
  problem: denseProblem,
  title: 'Naive (3 passes, S and P in global memory)',
  description: 'Scores, row softmax and P·V as three dispatches; S and P (B·H·Nq·Nk floats each) live in global memory.',
  tunables: [
    { key: 'wgScores', label: 'Scores workgroup size', help: 'Invocations per workgroup of the S = QKᵀ pass (one per score).', values: WORKGROUP_SIZES },
    { key: 'wgSoftmax', label: 'Softmax workgroup size', help: 'Invocations per workgroup of the softmax pass (one per row).', values: WORKGROUP_SIZES },
    { key: 'wgPv', label: 'P·V workgroup size', help: 'Invocations per workgroup of the O = PV pass (one per output element).', values: WORKGROUP_SIZES },
  ],
  // Every pass's workgroup size matters on its own: the search walks them one at a time.
  requiredFeatures: [],
  precision: 'f32',
  tolerance: F32_TOLERANCE,
  conformance: [32, 64, 128].map((headDim) => ({
    fixed: { headDim },
    tiles: [
      { wgScores: 64, wgSoftmax: 64, wgPv: 64 },
      // Workgroups wider than d (idle lanes in P·V) and narrower than the lengths.
      { wgScores: 32, wgSoftmax: 128, wgPv: 256 },
    ],
  })),

  defaultTiles(_shape, caps) {
    const wg = Math.min(64, caps.limits.maxComputeInvocationsPerWorkgroup);
    return { wgScores: wg, wgSoftmax: wg, wgPv: wg };
  },

  check(s, tiles, caps) {
    const problems: ConfigProblem[] = [...tensorProblems(s, caps)];
    for (const key of ['wgScores', 'wgSoftmax', 'wgPv'] as const) {
      const wg = tiles[key];
      problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', wg, `${key} = ${wg}`));
      problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', wg, `${key} = ${wg}`));
    }
    const scoreBytes = naiveScoreBytes(s);
    problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', scoreBytes, `the S and P buffers (B·H·Nq·Nk·4)`));
    problems.push(...overLimit(caps, 'maxBufferSize', scoreBytes, `the S and P buffers (B·H·Nq·Nk·4)`));
    const maxGroups = caps.limits.maxComputeWorkgroupsPerDimension;
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.seqQ, `one workgroup row per query (seqQ = ${s.seqQ})`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', s.batch * s.heads, `batch·heads = ${s.batch * s.heads}`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupsPerDimension', Math.ceil(s.seqK / tiles.wgScores), `key blocks of the scores pass`));
    const softmaxGroups = Math.ceil((s.batch * s.heads * s.seqQ) / tiles.wgSoftmax);
    if (softmaxGroups > maxGroups * maxGroups) {
      problems.push(
        ruleProblem(
          'maxComputeWorkgroupsPerDimension',
          softmaxGroups,
          maxGroups * maxGroups,
          `softmax needs ${softmaxGroups} workgroups, more than a 2-D grid holds`,
        ),
      );
    }
    if (caps.limits.maxStorageBuffersPerShaderStage < 3) {
      problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 3, 'the scores and P·V passes'));
    }
    return problems;
  },

  bytesMoved(s) {
    // Each pass reads its inputs once and writes its outputs once (re-reads served by caches are
    // not counted): scores read Q and K and write S; softmax reads S twice and writes P; P·V reads P
    // and V and writes O. K and V are read once per query head.
    const qo = s.batch * s.heads * s.seqQ * s.headDim * 4;
    const kvPerHead = s.batch * s.heads * s.seqK * s.headDim * 4;
    const sp = naiveScoreBytes(s);
    return qo + kvPerHead + sp + 3 * sp + sp + kvPerHead + qo;
  },

  scratch(s) {
    const bytes = naiveScoreBytes(s);
    return [
      { name: 'S (scores)', bytes },
      { name: 'P (probabilities)', bytes },
    ];
  },

  async prepare(device, s, tiles, caps) {
    const [scores, softmax, pv] = await Promise.all([
      compilePipeline(device, {
        label: `naive scores wg=${tiles.wgScores}`,
        code: specialize(composeShader([params, scoresSource]), {
          WORKGROUP_SIZE: tiles.wgScores,
          HEAD_DIM: s.headDim,
        }),
        bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'storage'],
      }),
      compilePipeline(device, {
        label: `naive softmax wg=${tiles.wgSoftmax}`,
        code: specialize(composeShader([params, softmaxSource]), { WORKGROUP_SIZE: tiles.wgSoftmax }),
        bindings: ['uniform', 'read-only-storage', 'storage'],
      }),
      compilePipeline(device, {
        label: `naive pv wg=${tiles.wgPv}`,
        code: specialize(composeShader([params, pvSource]), {
          WORKGROUP_SIZE: tiles.wgPv,
          HEAD_DIM: s.headDim,
        }),
        bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'storage'],
      }),
    ]);
    const pipelines = [scores, softmax, pv];
    return {
      // Pipelines compile concurrently, so the slowest one is the cost.
      compileMs: Math.max(...pipelines.map((p) => (p.cached ? 0 : p.compileMs))),
      cached: pipelines.every((p) => p.cached),
      shaders: pipelines.map((p) => ({ label: p.label, code: p.code })),
      bind(tensors) {
        const params = createParamsBuffer(device, s);
        const bytes = naiveScoreBytes(s);
        const usage = GPUBufferUsage.STORAGE;
        const sBuffer = device.createBuffer({ label: 'naive S', size: bytes, usage });
        const pBuffer = device.createBuffer({ label: 'naive P', size: bytes, usage });
        const groups = [
          bindBuffers(device, 'naive scores', scores.layout, [params, tensors.q!, tensors.k!, sBuffer]),
          bindBuffers(device, 'naive softmax', softmax.layout, [params, sBuffer, pBuffer]),
          bindBuffers(device, 'naive pv', pv.layout, [params, pBuffer, tensors.v!, tensors.o!]),
        ];
        const bh = s.batch * s.heads;
        const softmaxGrid = spreadGrid(Math.ceil((bh * s.seqQ) / tiles.wgSoftmax), caps.limits.maxComputeWorkgroupsPerDimension);
        return {
          encode(pass) {
            pass.setPipeline(scores.pipeline);
            pass.setBindGroup(0, groups[0]!);
            pass.dispatchWorkgroups(Math.ceil(s.seqK / tiles.wgScores), s.seqQ, bh);
            pass.setPipeline(softmax.pipeline);
            pass.setBindGroup(0, groups[1]!);
            pass.dispatchWorkgroups(softmaxGrid[0], softmaxGrid[1]);
            pass.setPipeline(pv.pipeline);
            pass.setBindGroup(0, groups[2]!);
            pass.dispatchWorkgroups(Math.ceil(s.headDim / tiles.wgPv), s.seqQ, bh);
          },
          destroy() {
            params.destroy();
            sBuffer.destroy();
            pBuffer.destroy();
          },
        };
      },
    };
  },
};
