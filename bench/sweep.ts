import { type AttentionShape, type Tiles, getKernel, tileSpace } from '../src/index.js';

/** One benchmark case: a kernel, a shape and tiles (partial: the rest are the kernel's defaults). */
export interface BenchCase {
  kernel: string;
  shape: AttentionShape;
  tiles?: Partial<Tiles>;
}

/**
 * Parses a tile specification such as "flash:br=32/64,bc=16/32" into configurations: values
 * separated by "/" are crossed, so that spec is four configurations. "flash:all" is every value
 * of every tunable (the device check prunes it later).
 */
export function parseTileSpec(spec: string): { kernel: string; configs: Partial<Tiles>[] } {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new Error(`--tiles "${spec}": expected KERNEL:key=value[,key=value...] (e.g. flash:br=64,bc=32)`);
  const kernelName = spec.slice(0, colon).trim();
  const kernel = getKernel(kernelName);
  const body = spec.slice(colon + 1).trim();
  if (body === 'all') return { kernel: kernel.name, configs: tileSpace(kernel) };
  let configs: Partial<Tiles>[] = [{}];
  for (const part of body.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--tiles "${spec}": "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const tunable = kernel.tunables.find((t) => t.key === key);
    if (!tunable) {
      throw new Error(`--tiles "${spec}": ${kernel.name} has no tile parameter "${key}" (it has ${kernel.tunables.map((t) => t.key).join(', ')})`);
    }
    const values = part.slice(eq + 1).split('/').map((v) => {
      const n = Number(v.trim());
      if (!tunable.values.includes(n)) {
        throw new Error(`--tiles "${spec}": ${key} = ${v} is not one of ${tunable.values.join(', ')}`);
      }
      return n;
    });
    configs = configs.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return { kernel: kernel.name, configs };
}

export interface SweepSpec {
  kernels: string[];
  batch: number[];
  heads: number[];
  /** Key/value heads; undefined means equal to heads. */
  kvHeads: number[] | undefined;
  seq: number[];
  /** Query lengths; undefined means equal to seq (self-attention). */
  seqQ: number[] | undefined;
  dims: number[];
  causal: boolean[];
  tiles: Map<string, Partial<Tiles>[]>;
}

/** The cross product of a sweep, kernels innermost so that each shape's kernels sit side by side. */
export function expandSweep(spec: SweepSpec): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const headDim of spec.dims)
    for (const causal of spec.causal)
      for (const batch of spec.batch)
        for (const heads of spec.heads)
          for (const kvHeads of spec.kvHeads ?? [heads])
            for (const seqK of spec.seq)
              for (const seqQ of spec.seqQ ?? [seqK])
                for (const kernel of spec.kernels)
                  for (const tiles of spec.tiles.get(kernel) ?? [{}])
                    cases.push({ kernel, shape: { batch, heads, kvHeads, seqQ, seqK, headDim, causal }, tiles });
  return cases;
}
