import type { DeviceCaps } from '../../../gpu/caps.js';
import { type CompiledPipeline, compilePipeline } from '../../../gpu/pipelines.js';
import { composeShader } from '../../../wgsl/compose.js';
import { specialize, unrollLoops } from '../../../wgsl/specialize.js';
import { overLimit, ruleProblem, spreadGrid } from '../../common.js';
import type { ConfigProblem, Tunable } from '../../types.js';
import params from '../params.wgsl?raw';
import { type TopkShape, selectedPairs } from '../shape.js';
import source from './attend.wgsl?raw';

export type AttendTiles = { readonly hpw: number; readonly tk: number };

export const ATTEND_TUNABLES: readonly Tunable<'hpw' | 'tk'>[] = [
  {
    key: 'hpw',
    label: 'Heads per workgroup',
    help: 'Query heads of one key/value head that share each gathered K and V row; must divide heads / kvHeads.',
    values: [1, 2, 4, 8, 16],
  },
  { key: 'tk', label: 'Keys per chunk', help: 'Selected keys gathered into workgroup memory at a time.', values: [8, 16, 32, 64] },
];

const INVOCATIONS = 128;

/**
 * The per-invocation shares of attend.wgsl: scores (SPT), gathered vec4 (GPT), output slots (OPT),
 * partial maxima per head (PARTS), and KS, the odd row stride (in vec4) of workgroup rows.
 */
export function attendGeometry(s: TopkShape, tiles: AttendTiles) {
  const d4 = s.headDim / 4;
  const ceil = (a: number) => Math.ceil(a / INVOCATIONS);
  return {
    d4,
    ks: d4 | 1,
    spt: ceil(tiles.hpw * tiles.tk),
    gpt: ceil(tiles.tk * d4),
    opt: ceil(tiles.hpw * d4),
    parts: Math.min(INVOCATIONS / tiles.hpw, tiles.tk),
  };
}

/** Workgroup memory as attend.wgsl declares it: Q rows and one K/V chunk (padded rows), P, partial maxima, α, slot flags. */
export function attendWorkgroupBytes(s: TopkShape, tiles: AttendTiles): number {
  const { ks } = attendGeometry(s, tiles);
  return 16 * (tiles.hpw + tiles.tk) * ks + 4 * (tiles.hpw * tiles.tk + INVOCATIONS + tiles.hpw + tiles.tk);
}

/**
 * The most heads per workgroup that divide the group (every gathered row serves them all: with
 * MQA one gather per query), then the widest chunk that fits (fewer barriers per key).
 */
export function defaultAttendTiles(s: TopkShape, caps: DeviceCaps): AttendTiles {
  const group = s.heads / s.kvHeads;
  for (const hpw of [16, 8, 4, 2, 1])
    for (const tk of [32, 16, 8]) {
      const tiles = { hpw, tk };
      if (group % hpw === 0 && attendWorkgroupBytes(s, tiles) <= caps.limits.maxComputeWorkgroupStorageSize) return tiles;
    }
  return { hpw: 1, tk: 8 };
}

export function attendShader(s: TopkShape, tiles: AttendTiles): string {
  const { d4, ks, spt, gpt, opt, parts } = attendGeometry(s, tiles);
  const code = specialize(composeShader([params, source]), {
    WG: INVOCATIONS,
    D4: d4,
    KS: ks,
    HPW: tiles.hpw,
    TK: tiles.tk,
    SPT: spt,
    GPT: gpt,
    OPT: opt,
    PARTS: parts,
  });
  return unrollLoops(code, { SPT: spt, GPT: gpt, OPT: opt });
}

export function compileAttend(device: GPUDevice, s: TopkShape, tiles: AttendTiles): Promise<CompiledPipeline> {
  return compilePipeline(device, {
    label: `topk attend d=${s.headDim} hpw=${tiles.hpw} tk=${tiles.tk}`,
    code: attendShader(s, tiles),
    bindings: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
  });
}

export function attendGrid(s: TopkShape, tiles: AttendTiles, caps: DeviceCaps): [number, number] {
  return spreadGrid((s.heads / tiles.hpw) * s.seqK * s.batch, caps.limits.maxComputeWorkgroupsPerDimension);
}

export function attendProblems(s: TopkShape, tiles: AttendTiles, caps: DeviceCaps): ConfigProblem[] {
  const group = s.heads / s.kvHeads;
  const problems: ConfigProblem[] = [];
  if (group % tiles.hpw !== 0) {
    problems.push(
      ruleProblem(
        'heads per workgroup divides heads / kvHeads',
        tiles.hpw,
        group,
        `hpw = ${tiles.hpw} does not divide the ${group} query heads of each key/value head`,
      ),
    );
  }
  const workgroups = (s.heads / tiles.hpw) * s.seqK * s.batch;
  const max = caps.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups > max * max) {
    problems.push(
      ruleProblem('maxComputeWorkgroupsPerDimension²', workgroups, max * max, `the attention needs ${workgroups} workgroups, more than a 2-D grid holds`),
    );
  }
  problems.push(
    ...overLimit(caps, 'maxComputeInvocationsPerWorkgroup', INVOCATIONS, 'the attention'),
    ...overLimit(caps, 'maxComputeWorkgroupSizeX', INVOCATIONS, 'the attention'),
    ...overLimit(
      caps,
      'maxComputeWorkgroupStorageSize',
      attendWorkgroupBytes(s, tiles),
      `the attention (hpw = ${tiles.hpw}, tk = ${tiles.tk}, d = ${s.headDim})`,
    ),
    ...overLimit(caps, 'maxStorageBufferBindingSize', s.batch * s.heads * s.seqK * s.headDim * 4, 'Q (and O)'),
    ...overLimit(caps, 'maxStorageBufferBindingSize', s.batch * s.kvHeads * s.seqK * s.headDim * 4, 'K (and V)'),
    ...overLimit(caps, 'maxStorageBufferBindingSize', s.batch * s.seqK * s.topK * 4, 'the selected indices'),
  );
  if (caps.limits.maxStorageBuffersPerShaderStage < 5) {
    problems.push(...overLimit(caps, 'maxStorageBuffersPerShaderStage', 5, 'the attention (Q, K, V, indices, O)'));
  }
  return problems;
}

/**
 * Global traffic: Q read and O written once; each workgroup gathers a K and a V row per selected
 * key (HPW heads share them) and reads its index row.
 */
export function attendBytes(s: TopkShape, tiles: AttendTiles): number {
  const qo = 2 * s.batch * s.heads * s.seqK * s.headDim * 4;
  const gathers = (s.heads / tiles.hpw) * s.batch * selectedPairs(s) * 2 * s.headDim * 4;
  const indices = (s.heads / tiles.hpw) * s.batch * s.seqK * s.topK * 4;
  return qo + gathers + indices;
}
