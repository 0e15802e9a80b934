/**
 * A small WGSL specializer: sets the values of module-scope `const` declarations by name.
 *
 * WGSL override constants cannot size function-scope arrays, and the flash kernel keeps its
 * per-invocation tiles (scores, output accumulators) in such arrays so that the compiler holds them
 * in registers. So tile sizes are written as plain consts with defaults in the .wgsl file, which
 * stays valid on its own, and each configuration gets its own module with the values substituted.
 */
export type ConstValue = number | boolean;

const DECLARATION = /^(\s*const\s+)([A-Za-z_][A-Za-z0-9_]*)(\s*:\s*(u32|i32|f32|bool))?(\s*=\s*)([^;]+)(;)/gm;

export function specialize(source: string, values: Readonly<Record<string, ConstValue>>): string {
  const seen = new Map<string, number>();
  const result = source.replace(
    DECLARATION,
    (whole, head: string, name: string, typed: string | undefined, type: string | undefined, eq: string, _old: string, semi: string) => {
      if (!(name in values)) return whole;
      seen.set(name, (seen.get(name) ?? 0) + 1);
      return `${head}${name}${typed ?? ''}${eq}${literal(name, values[name]!, type)}${semi}`;
    },
  );
  for (const name of Object.keys(values)) {
    const count = seen.get(name) ?? 0;
    if (count !== 1) {
      throw new Error(
        count === 0
          ? `specialize: the shader declares no module-scope const ${name}`
          : `specialize: const ${name} is declared ${count} times`,
      );
    }
  }
  return result;
}

function literal(name: string, value: ConstValue, type: string | undefined): string {
  if (typeof value === 'boolean') {
    if (type !== undefined && type !== 'bool') throw new Error(`specialize: ${name} is ${type}, got a boolean`);
    return String(value);
  }
  if (!Number.isFinite(value)) throw new Error(`specialize: ${name} must be finite, got ${value}`);
  switch (type) {
    case 'u32':
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
        throw new Error(`specialize: ${name} is u32, got ${value}`);
      }
      return `${value}u`;
    case 'i32':
      if (!Number.isInteger(value) || Math.abs(value) > 0x7fffffff) throw new Error(`specialize: ${name} is i32, got ${value}`);
      return `${value}i`;
    case 'f32': {
      // Shortest round-trip decimal, always with a point or exponent so WGSL reads it as float.
      const text = String(value);
      return /[.eE]/.test(text) ? `${text}f` : `${text}.0f`;
    }
    case 'bool':
      throw new Error(`specialize: ${name} is bool, got ${value}`);
    default:
      throw new Error(`specialize: const ${name} needs an explicit type (u32, i32, f32 or bool)`);
  }
}
