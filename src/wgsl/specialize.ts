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
      throw new Error(count === 0 ? `specialize: the shader declares no module-scope const ${name}` : `specialize: const ${name} is declared ${count} times`);
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

const UNROLL_HEADER =
  /^[ \t]*\/\/[ \t]*@unroll[ \t]*\n(\s*)for\s*\(\s*var\s+([A-Za-z_]\w*)\s*=\s*0u\s*;\s*\2\s*<\s*([A-Za-z_]\w*|\d+u)\s*;\s*\2\s*(?:\+\+|\+=\s*1u)\s*\)\s*\{/m;

/**
 * Expands loops marked `// @unroll` into straight-line copies of their body.
 *
 * A marked loop must read `for (var i = 0u; i < BOUND; i++) {` with BOUND a literal (`4u`) or a
 * const whose value is in `bounds`; each copy becomes a block that starts with `const i = <k>u;`, so every array index
 * built from i is a const-expression and register tiles stay in registers whatever the driver's
 * unrolling heuristics. A `const_assert BOUND == <n>u;` is appended per bound so the shader
 * compiler rejects a module whose consts disagree with the values the host computed. Bodies must
 * not use `break` or `continue`. Nested marked loops are expanded too.
 */
export function unrollLoops(source: string, bounds: Readonly<Record<string, number>>): string {
  const used = new Set<string>();
  let out = source;
  for (let guard = 0; ; guard++) {
    if (guard > 10_000) throw new Error('unrollLoops: too many loops');
    const match = UNROLL_HEADER.exec(out);
    if (!match) break;
    const [, indent, variable, bound] = match as unknown as [string, string, string, string];
    const literal = /^\d+u$/.test(bound);
    const count = literal ? Number.parseInt(bound, 10) : bounds[bound];
    if (count === undefined || !Number.isInteger(count) || count < 0) {
      throw new Error(`unrollLoops: no value for loop bound ${bound} (loop over ${variable})`);
    }
    if (!literal) used.add(bound);
    const open = match.index + match[0].length - 1;
    const close = matchingBrace(out, open);
    const body = out.slice(open + 1, close);
    if (/\b(break|continue)\b/.test(body)) {
      throw new Error(`unrollLoops: the loop over ${variable} uses break or continue`);
    }
    const trimmed = body.replace(/\s+$/, '');
    const copies = Array.from({ length: count }, (_, k) => `${indent}{ const ${variable} = ${k}u;${trimmed}\n${indent}}`).join('\n');
    out = out.slice(0, match.index) + copies.trimStart() + out.slice(close + 1);
  }
  const stray = out.search(/^[ \t]*\/\/[ \t]*@unroll[ \t]*$/m);
  if (stray >= 0) {
    const context = out
      .slice(stray, stray + 120)
      .split('\n')
      .slice(0, 2)
      .join(' ⏎ ');
    throw new Error(`unrollLoops: an @unroll comment is not followed by a loop it can expand: ${context}`);
  }
  const asserts = [...used].sort().map((b) => `const_assert ${b} == ${bounds[b]}u;`);
  return asserts.length > 0 ? `${out}\n${asserts.join('\n')}\n` : out;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  throw new Error('unrollLoops: unbalanced braces');
}
