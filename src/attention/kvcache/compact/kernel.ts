import type { DeviceCaps } from '../../../gpu/caps.js';
import { type BindingKind, bindBuffers, compilePipeline, type CompiledPipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import radixSelectSource from '../../../wgsl/radix_select.wgsl?raw';
import { specialize } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, spreadGrid } from '../../common.js';
import type { ConfigProblem, KernelDescriptor } from '../../types.js';
import { expectedMovedTokens, expectedSurvivors, kvBytes, kvCacheProblem, liveTokens } from '../problem.js';
import { type KvCacheShape, elementBytes, maxBlocksPerSeq, poolElements, rowBytes } from '../shape.js';
import countSource from './count.wgsl?raw';
import freeListSource from './free_list.wgsl?raw';
import moveSource from './move.wgsl?raw';
import offsetsSource from './offsets.wgsl?raw';
import paramsSource from './params.wgsl?raw';
import placeSource from './place.wgsl?raw';
import scanSource from './scan.wgsl?raw';
import scoreSource from './score.wgsl?raw';
import selectKeepSource from './select_keep.wgsl?raw';

/** Invocations of the scan passes, and tokens each handles per chunk. */
export const SCAN_WG = 256;
export const SCAN_CHUNK = SCAN_WG * 4;
const PARAMS_BYTES = 32;
/** The keep-mask selection's workgroup memory: 2048 histogram bins, the scan buffer, three words. */
const SELECT_WORKGROUP_BYTES = 2048 * 4 + SCAN_WG * 4 + 12;

export type CompactTiles = { readonly wg: number };

/** The widest word that divides a row: 16, 8 or 4 bytes (f16 rows are even, so always whole words). */
export function wordBytes(s: KvCacheShape): 16 | 8 | 4 {
  const bytes = rowBytes(s);
  return bytes % 16 === 0 ? 16 : bytes % 8 === 0 ? 8 : 4;
}

const WORD_TYPE = { 16: 'vec4<u32>', 8: 'vec2<u32>', 4: 'u32' } as const;

export function scanChunks(s: KvCacheShape): number {
  return Math.ceil(s.seqK / SCAN_CHUNK);
}

function poolBytes(s: KvCacheShape): number {
  return poolElements(s) * elementBytes(s);
}

function encodeParams(s: KvCacheShape): ArrayBuffer {
  const u32 = new Uint32Array(PARAMS_BYTES / 4);
  u32.set([s.batch, s.seqK, maxBlocksPerSeq(s), s.kvHeads, s.blockSize, scanChunks(s), s.evict, 0]);
  return u32.buffer;
}

/** Workgroups of the score pass: one token per invocation. */
function scoreTiles(s: KvCacheShape): number {
  return Math.ceil(s.seqK / SCAN_WG);
}

/**
 * Compaction in place, six dispatches (eight under the score policy, which first scores every token
 * and selects the survivors on the GPU): a three-pass survivor scan (chunk counts, per-sequence
 * offsets and new table, destinations), the free list, then the rows through a scratch pool
 * (gather, copy back). Every pass is spread over (sequence, chunk) or (sequence, block, head)
 * workgroups so one 128K-token sequence fills the GPU as well as a large batch does.
 */
export const compactKernel: KernelDescriptor<KvCacheShape, CompactTiles> = {
  name: 'compact',
  title: 'Compaction (scan + gather/copy-back through scratch)',
  description:
    'Stable compaction of each sequence: a chunked prefix sum of the keep mask gives each survivor its slot; survivors are gathered into a scratch pool by destination block and copied back, so the in-place move has no read-after-write hazard; freed blocks go to a free list. Under the score policy the GPU also makes the keep mask, and the time includes it: a pass scores each token (sum over kv heads of its key norm, read through the block table), then one workgroup per sequence radix-selects the highest scores, ties to the earlier token.',
  problem: kvCacheProblem,
  tunables: [
    {
      key: 'wg',
      label: 'Copy workgroup size',
      help: 'Invocations per (sequence, block, head) workgroup of the gather and copy-back passes.',
      values: [32, 64, 128, 256],
    },
  ],
  requiredFeatures: [],
  // f16 pools are copied as 32-bit words: no shader-f16 needed, and the copy is exact either way.
  precision: 'f32',
  tolerance: { atol: 0, rtol: 0 },
  conformance: [{ fixed: {}, tiles: [{ wg: 64 }, { wg: 32 }] }],

  defaultTiles(_s, caps) {
    return { wg: Math.min(128, caps.limits.maxComputeInvocationsPerWorkgroup) };
  },

  check(s, tiles, caps) {
    const problems: ConfigProblem[] = [];
    const scanInvocations = `the scan passes' ${SCAN_WG} invocations`;
    problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', SCAN_WG, scanInvocations));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', SCAN_WG, scanInvocations));
    problems.push(...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', tiles.wg, `wg = ${tiles.wg}`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupSizeX', tiles.wg, `wg = ${tiles.wg}`));
    problems.push(...overLimit(caps, 'maxComputeWorkgroupStorageSize', SCAN_WG * 4, 'the scan buffer'));
    problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 7, 'the copy passes (src_of, table, lengths, K and V in and out)'));
    const buffers: [string, number][] = [
      ['each K/V pool and its scratch', poolBytes(s)],
      ['the keep mask and src_of (batch·seqK·4)', s.batch * s.seqK * 4],
    ];
    if (s.policy === 'score') {
      problems.push(...overLimit(caps, 'maxComputeWorkgroupStorageSize', SELECT_WORKGROUP_BYTES, 'the keep-mask selection (radix histogram and scan)'));
    }
    for (const [what, bytes] of buffers) {
      problems.push(...overLimit(caps, 'maxStorageBufferBindingSize', bytes, what));
      problems.push(...overLimit(caps, 'maxBufferSize', bytes, what));
    }
    if (s.batch * s.seqK > 0xffffffff) {
      problems.push(ruleProblem('u32 token index', s.batch * s.seqK, 0xffffffff, `batch·seqK = ${s.batch * s.seqK} is past a u32 index`));
    }
    const maxGroups = caps.limits.maxComputeWorkgroupsPerDimension;
    const grids: [string, number][] = [
      ['the scan passes (batch·chunks)', s.batch * scanChunks(s)],
      ['the copy passes (batch·blocks·kvHeads)', s.batch * maxBlocksPerSeq(s) * s.kvHeads],
      ['the score pass (batch·⌈seqK/256⌉)', s.policy === 'score' ? s.batch * scoreTiles(s) : 0],
    ];
    for (const [what, groups] of grids) {
      if (groups > maxGroups * maxGroups) {
        problems.push(
          ruleProblem(
            'maxComputeWorkgroupsPerDimension',
            groups,
            maxGroups * maxGroups,
            `${what} need ${groups} workgroups, more than a 2-D grid of ${maxGroups}² holds`,
          ),
        );
      }
    }
    return problems;
  },

  bytesMoved(s) {
    // The keep mask is read twice (count, place); src_of written once per survivor and read once
    // per survivor and kv head by each copy pass; tables and lengths are small. Each relocated row
    // is read from the pool, written to scratch, read back and written to the pool: 4× its bytes.
    const survivors = expectedSurvivors(s);
    const blocks = s.batch * maxBlocksPerSeq(s);
    const indices = 4 * (2 * s.batch * s.seqK + survivors * (1 + 2 * s.kvHeads) + 4 * blocks + 2 * s.batch * scanChunks(s));
    // The score policy reads every live key once to score it, writes the scores, reads them up to
    // four times to select (three radix passes and the mask pass; counted at the worst case) and
    // writes the mask.
    const scoring = s.policy === 'score' ? kvBytes(s, liveTokens(s)) / 2 + 4 * (s.batch * s.seqK + 4 * liveTokens(s) + s.batch * s.seqK) : 0;
    return indices + scoring + 4 * kvBytes(s, expectedMovedTokens(s));
  },

  scratch(s) {
    return [
      { name: 'K scratch pool', bytes: poolBytes(s) },
      { name: 'V scratch pool', bytes: poolBytes(s) },
      { name: 'src_of (batch·seqK)', bytes: s.batch * s.seqK * 4 },
      { name: 'chunk sums (batch·chunks)', bytes: s.batch * scanChunks(s) * 4 },
    ];
  },

  async prepare(device, s, tiles, caps) {
    const scan = (label: string, source: string, bindings: readonly BindingKind[], libraries: readonly string[] = []) =>
      compilePipeline(device, {
        label: `compact ${label}`,
        code: composeShader([paramsSource, scanSource, ...libraries, source]),
        bindings: ['uniform', ...bindings],
      });
    const word = wordBytes(s);
    const move = (gather: boolean) =>
      compilePipeline(device, {
        label: `compact ${gather ? 'gather' : 'copy back'} wg=${tiles.wg} bs=${s.blockSize} word=${word}`,
        code: specialize(composeShader([paramsSource, moveSource.replace('alias Word = vec4<u32>;', `alias Word = ${WORD_TYPE[word]};`)]), {
          WG: tiles.wg,
          GATHER: gather,
          BLOCK_SIZE: s.blockSize,
          ROW_WORDS: rowBytes(s) / word,
        }),
        bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage'],
      });
    const R: BindingKind = 'read-only-storage';
    const W: BindingKind = 'storage';
    const scoring = s.policy === 'score';
    const scorePass = () =>
      compilePipeline(device, {
        label: `compact score ${s.dtype} d=${s.headDim}`,
        code: specialize(composeShader([paramsSource, scanSource, scoreSource]), { F16: s.dtype === 'f16', HEAD_DIM: s.headDim }),
        bindings: ['uniform', R, R, R, W],
      });
    const pipelines = await Promise.all([
      scan('count', countSource, [R, R, W]),
      scan('offsets', offsetsSource, [R, W, W, W]),
      scan('place', placeSource, [R, R, R, W]),
      scan('free list', freeListSource, [R, R, R, W, W]),
      move(true),
      move(false),
      ...(scoring ? [scorePass(), scan('select keep', selectKeepSource, [R, R, W], [radixSelectSource])] : []),
    ]);
    const [count, offsets, place, freeList, gather, copyBack, score, selectKeep] = pipelines as [
      CompiledPipeline,
      CompiledPipeline,
      CompiledPipeline,
      CompiledPipeline,
      CompiledPipeline,
      CompiledPipeline,
      CompiledPipeline?,
      CompiledPipeline?,
    ];
    return {
      compileMs: Math.max(...pipelines.map((p) => (p.cached ? 0 : p.compileMs))),
      cached: pipelines.every((p) => p.cached),
      shaders: pipelines.map((p) => ({ label: p.label, code: p.code })),
      bind(t) {
        const params = device.createBuffer({ label: 'compact params', size: PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        device.queue.writeBuffer(params, 0, encodeParams(s));
        const storage = (label: string, bytes: number) => device.createBuffer({ label, size: Math.max(16, bytes), usage: GPUBufferUsage.STORAGE });
        const kScratch = storage('compact K scratch', poolBytes(s));
        const vScratch = storage('compact V scratch', poolBytes(s));
        const srcOf = storage('compact src_of', s.batch * s.seqK * 4);
        const chunkSums = storage('compact chunk sums', s.batch * scanChunks(s) * 4);
        const groups = [
          bindBuffers(device, 'compact count', count.layout, [params, t.keep!, t.contextLens!, chunkSums]),
          bindBuffers(device, 'compact offsets', offsets.layout, [params, t.blockTable!, chunkSums, t.newLens!, t.newTable!]),
          bindBuffers(device, 'compact place', place.layout, [params, t.keep!, t.contextLens!, chunkSums, srcOf]),
          bindBuffers(device, 'compact free list', freeList.layout, [params, t.contextLens!, t.newLens!, t.blockTable!, t.freeList!, t.freeCount!]),
          bindBuffers(device, 'compact gather', gather.layout, [params, srcOf, t.blockTable!, t.newLens!, t.kPool!, t.vPool!, kScratch, vScratch]),
          bindBuffers(device, 'compact copy back', copyBack.layout, [params, srcOf, t.blockTable!, t.newLens!, kScratch, vScratch, t.kPool!, t.vPool!]),
        ];
        const maxGroups = caps.limits.maxComputeWorkgroupsPerDimension;
        const chunkGrid = spreadGrid(s.batch * scanChunks(s), maxGroups);
        const seqGrid = spreadGrid(s.batch, maxGroups);
        const moveGrid = spreadGrid(s.batch * maxBlocksPerSeq(s) * s.kvHeads, maxGroups);
        const passes: [CompiledPipeline, [number, number]][] = [];
        if (score && selectKeep) {
          // The score policy's keep mask is made here, before the count pass reads it.
          groups.unshift(
            bindBuffers(device, 'compact score', score.layout, [params, t.blockTable!, t.contextLens!, t.kPool!, t.scores!]),
            bindBuffers(device, 'compact select keep', selectKeep.layout, [params, t.contextLens!, t.scores!, t.keep!]),
          );
          passes.push([score, spreadGrid(s.batch * scoreTiles(s), maxGroups)], [selectKeep, seqGrid]);
        }
        passes.push([count, chunkGrid], [offsets, seqGrid], [place, chunkGrid], [freeList, seqGrid], [gather, moveGrid], [copyBack, moveGrid]);
        return {
          encode(pass) {
            // Dispatches in one pass are ordered for storage writes: each pass sees the last one's results.
            passes.forEach(([pipeline, grid], i) => {
              pass.setPipeline(pipeline.pipeline);
              pass.setBindGroup(0, groups[i]!);
              pass.dispatchWorkgroups(grid[0], grid[1]);
            });
          },
          destroy() {
            for (const b of [params, kScratch, vScratch, srcOf, chunkSums]) b.destroy();
          },
        };
      },
    };
  },
};
