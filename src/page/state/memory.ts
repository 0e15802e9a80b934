import type { DeviceCaps } from '../../gpu/caps.js';
import { getKernel } from '../../attention/registry.js';
import { tensorBytes } from '../../gpu/tensors.js';
import { type PageConfig, effectiveTiles, problemOf, shapeAt, shapeProblem } from './config.js';

export interface MemoryRow {
  kernel: string;
  seq: number;
  /** The problem's tensors (Q, K, V and O for dense): the same for every kernel. */
  tensorBytes: number;
  /** What the kernel allocates beyond them (S and P for naive). */
  scratch: { name: string; bytes: number }[];
  totalBytes: number;
}

/** The GPU memory each selected kernel allocates at each length, from the kernels' own descriptors. */
export function memoryRows(config: PageConfig, caps: DeviceCaps): MemoryRow[] {
  if (shapeProblem(config)) return [];
  const rows: MemoryRow[] = [];
  for (const seq of config.seqs) {
    const shape = shapeAt(config, seq);
    const tensors = problemOf(config)
      .tensors(shape)
      .reduce((sum, t) => sum + tensorBytes(t), 0);
    for (const name of config.kernels) {
      const kernel = getKernel(name);
      const scratch = kernel.scratch(shape, effectiveTiles(kernel, config, caps, shape));
      rows.push({ kernel: name, seq, tensorBytes: tensors, scratch, totalBytes: tensors + scratch.reduce((s, b) => s + b.bytes, 0) });
    }
  }
  return rows;
}
