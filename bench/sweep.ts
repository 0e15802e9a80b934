import { type ShapeField, type ShapeValue, type Tiles, getKernel, shapeKey, tileSpace } from '../src/index.js';

/** One benchmark case: a kernel, its problem's shape fields and tiles (partial: the rest are the kernel's defaults). */
export interface BenchCase {
  kernel: string;
  shape: Record<string, ShapeValue>;
  tiles?: Partial<Tiles>;
}

/**
 * Parses a tile specification such as "flash:br=32/64,bc=16/32" into configurations: values
 * separated by "/" are crossed, so that spec is four configurations. "flash:all" is every value
 * of every tunable (the device check prunes it later). A key given twice is refused.
 */
export function parseTileSpec(spec: string): { kernel: string; configs: Partial<Tiles>[] } {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new Error(`--tiles "${spec}": expected KERNEL:key=value[,key=value...] (e.g. flash:br=64,bc=32)`);
  const kernelName = spec.slice(0, colon).trim();
  const kernel = getKernel(kernelName);
  const body = spec.slice(colon + 1).trim();
  if (body === 'all') return { kernel: kernel.name, configs: tileSpace(kernel) };
  let configs: Partial<Tiles>[] = [{}];
  const seen = new Set<string>();
  for (const part of body
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--tiles "${spec}": "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const tunable = kernel.tunables.find((t) => t.key === key);
    if (!tunable) {
      throw new Error(`--tiles "${spec}": ${kernel.name} has no tile parameter "${key}" (it has ${kernel.tunables.map((t) => t.key).join(', ')})`);
    }
    if (seen.has(key)) throw new Error(`--tiles "${spec}": ${key} is given twice; give its values once, separated by / (e.g. ${key}=32/64)`);
    seen.add(key);
    const values = part
      .slice(eq + 1)
      .split('/')
      .map((v) => {
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
  /** Values of shape fields by field key; a field not listed takes its family's default. */
  values: Readonly<Record<string, readonly ShapeValue[]>>;
  tiles: Map<string, Partial<Tiles>[]>;
}

/**
 * The cross product of a sweep, kernels innermost so that each shape's kernels sit side by side.
 * Each kernel takes the fields of its own problem; a case that a kernel of another family would
 * repeat (a field it does not have varying) appears once.
 */
export function expandSweep(spec: SweepSpec): BenchCase[] {
  const keys = Object.keys(spec.values).filter((k) => spec.values[k]!.length > 0);
  let combos: Record<string, ShapeValue>[] = [{}];
  for (const key of keys) combos = combos.flatMap((c) => spec.values[key]!.map((v) => ({ ...c, [key]: v })));
  const cases: BenchCase[] = [];
  const seen = new Set<string>();
  for (const combo of combos)
    for (const name of spec.kernels) {
      const kernel = getKernel(name);
      const own = new Set(kernel.problem.fields.map((f: ShapeField) => f.key));
      const shape = Object.fromEntries(Object.entries(combo).filter(([k]) => own.has(k)));
      for (const tiles of spec.tiles.get(name) ?? [{}]) {
        const id = `${name}|${shapeKey(kernel.problem.fields, shape)}|${JSON.stringify(tiles)}`;
        if (seen.has(id)) continue;
        seen.add(id);
        cases.push({ kernel: name, shape, tiles });
      }
    }
  return cases;
}
