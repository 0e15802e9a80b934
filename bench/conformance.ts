// The correctness matrix: every kernel against the float64 reference on shapes chosen to break
// tiled kernels (length 1, odd lengths, lengths past a tile, decode, Nq > Nk; multi-head,
// grouped-query and multi-query; causal and not). The GPU tests run it on SwiftShader; the
// runner's --conformance runs it on any device, f16 kernels included where the device has them.
import {
  type AttentionDevice,
  type AttentionShape,
  ConfigError,
  type Tiles,
  compareOutputs,
  getKernel,
  planRun,
  randomInputs,
  referenceAttention,
  runAttention,
} from '../src/index.js';

/** (seqQ, seqK) pairs: length 1, odd lengths, lengths past a tile, decode and Nq ≠ Nk. */
export const CONFORMANCE_LENGTHS: [number, number][] = [
  [1, 1],
  [7, 7],
  [100, 100],
  [129, 129],
  [1, 129],
  [37, 100],
  [100, 37],
];

/** (heads, kvHeads): multi-head, grouped-query, multi-query. */
export const CONFORMANCE_HEADS: [number, number][] = [
  [2, 2],
  [4, 2],
  [3, 1],
];

export function conformanceShapes(headDim: number): AttentionShape[] {
  const shapes: AttentionShape[] = [];
  let n = 0;
  for (const [seqQ, seqK] of CONFORMANCE_LENGTHS)
    for (const causal of [false, true]) {
      // Rotate head layouts and batch sizes over the lengths rather than cross all of them.
      const [heads, kvHeads] = CONFORMANCE_HEADS[n % CONFORMANCE_HEADS.length]!;
      shapes.push({ batch: 1 + (n % 2), heads, kvHeads, seqQ, seqK, headDim, causal });
      n++;
    }
  return shapes;
}

export interface ConformanceCase {
  kernel: string;
  shape: AttentionShape;
  tiles: Partial<Tiles>;
}

export interface ConformanceResult extends ConformanceCase {
  ok: boolean;
  maxAbsError: number;
  mismatches: number;
  /** Set when the device cannot run the configuration (then ok is false only if it should have). */
  refused?: string;
}

/** Runs one case: the kernel's output against the reference, with the kernel's tolerance. */
export async function runConformanceCase(gpu: AttentionDevice, c: ConformanceCase): Promise<ConformanceResult> {
  const inputs = randomInputs(c.shape, 17 + c.shape.seqQ * 31 + c.shape.seqK);
  try {
    const result = await runAttention(gpu, inputs, { kernel: c.kernel, tiles: c.tiles });
    const cmp = compareOutputs(result.output, referenceAttention(inputs), getKernel(c.kernel).tolerance);
    return { ...c, tiles: result.tiles, ok: cmp.ok, maxAbsError: cmp.maxAbsError, mismatches: cmp.mismatches };
  } catch (error) {
    if (error instanceof ConfigError) return { ...c, ok: false, maxAbsError: NaN, mismatches: 0, refused: error.message };
    throw error;
  }
}

/** Tile configurations per head dim for the flash kernels: several per dim, defaults first. */
export const FLASH_CONFORMANCE_TILES: Record<number, Partial<Tiles>[]> = {
  32: [
    {},
    { br: 64, bc: 32, wg: 128, rowThreads: 4, subgroups: 1 },
    { br: 16, bc: 8, wg: 32, rowThreads: 2, subgroups: 0, prefetch: 0, unroll: 1 },
    { br: 8, bc: 16, wg: 16, rowThreads: 4, subgroups: 0, prefetch: 1, unroll: 8 },
    { br: 32, bc: 16, wg: 32, rowThreads: 1, subgroups: 0 },
  ],
  64: [
    {},
    { br: 32, bc: 16, wg: 64, rowThreads: 4, subgroups: 1 },
    { br: 32, bc: 16, wg: 64, rowThreads: 2, subgroups: 1, prefetch: 0, unroll: 2 },
    { br: 16, bc: 64, wg: 64, rowThreads: 8, subgroups: 0 },
    { br: 32, bc: 8, wg: 64, rowThreads: 4, subgroups: 0, prefetch: 1, unroll: 4 },
    // Eight rows per invocation: P is stored as two vectors per key.
    { br: 64, bc: 16, wg: 64, rowThreads: 8, subgroups: 0 },
  ],
  128: [
    {},
    { br: 16, bc: 16, wg: 64, rowThreads: 4, subgroups: 1 },
    { br: 8, bc: 8, wg: 32, rowThreads: 8, subgroups: 0, prefetch: 0, unroll: 32 },
    // Sixteen threads per row: a four-step reduce-scatter.
    { br: 8, bc: 16, wg: 32, rowThreads: 16, subgroups: 0 },
  ],
};

/**
 * flash-mma per head dim: defaults, two row blocks per subgroup (a Kᵀ/V matrix serving two), the
 * smallest key tile (one matrix wide), the largest workgroups and tiles of 256 query rows.
 */
export const MMA_CONFORMANCE_TILES: Record<number, Partial<Tiles>[]> = {
  32: [{}, { sgs: 4, rowBlocks: 2, bc: 16 }, { sgs: 8, rowBlocks: 1, bc: 32 }, { sgs: 8, rowBlocks: 2, bc: 16 }],
  64: [{}, { sgs: 4, rowBlocks: 2, bc: 16 }, { sgs: 4, rowBlocks: 2, bc: 32 }, { sgs: 8, rowBlocks: 1, bc: 32 }],
  128: [{}, { sgs: 4, rowBlocks: 2, bc: 16 }, { sgs: 4, rowBlocks: 1, bc: 16 }],
};

export const NAIVE_CONFORMANCE_TILES: Partial<Tiles>[] = [
  { wgScores: 64, wgSoftmax: 64, wgPv: 64 },
  // Workgroups wider than d (idle lanes in P·V) and narrower than the lengths.
  { wgScores: 32, wgSoftmax: 128, wgPv: 256 },
];

/** Every (kernel, tiles, head dim) group of the matrix for the kernels given. */
export function conformanceGroups(kernels: string[]): { kernel: string; headDim: number; tiles: Partial<Tiles> }[] {
  const out: { kernel: string; headDim: number; tiles: Partial<Tiles> }[] = [];
  for (const kernel of kernels)
    for (const headDim of [32, 64, 128]) {
      const configs =
        kernel === 'naive' ? NAIVE_CONFORMANCE_TILES : kernel === 'flash-mma' ? MMA_CONFORMANCE_TILES[headDim]! : FLASH_CONFORMANCE_TILES[headDim]!;
      for (const tiles of configs) out.push({ kernel, headDim, tiles });
    }
  return out;
}

/** Whether the device can run a group at all (features, limits), checked on its first shape. */
export function groupRunnable(gpu: AttentionDevice, kernel: string, headDim: number, tiles: Partial<Tiles>): string | null {
  try {
    planRun(gpu.caps, kernel, conformanceShapes(headDim)[0]!, tiles);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

