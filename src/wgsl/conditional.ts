/**
 * Conditional blocks in WGSL, for one shader source that serves several variants of a kernel (the
 * flash kernel in f32 and in f16): lines between
 *
 *   // @if NAME        (or // @if !NAME)
 *   ...
 *   // @else           (optional)
 *   ...
 *   // @endif
 *
 * are kept or dropped by the boolean flag NAME; the marker lines themselves are dropped, and every
 * kept line is passed through unchanged, so what is shared by all variants is written once and a
 * variant's module is exactly the lines it would have had on its own. Blocks nest. A marker must be
 * a comment line of its own; a comment that only mentions @if in its prose is not one. Unknown
 * flags, malformed markers, an @else or @endif without its @if and an @if left open are errors that
 * name the line.
 */
export type Flags = Readonly<Record<string, boolean>>;

const MARKER = /^\s*\/\/\s*@(if|else|endif)\b(.*)$/;
// What looks meant as a marker but is not one of the three (a typo would otherwise pass as prose).
const NEAR_MARKER = /^\s*\/\/\s*@(elif|elseif|else\s*if|end|fi|ifdef|ifndef|endif\S|if\S)/;

interface Open {
  line: number;
  /** Whether the enclosing blocks and this block's current side are kept. */
  outer: boolean;
  condition: boolean;
  inElse: boolean;
}

export function resolveIfBlocks(source: string, flags: Flags, name = 'shader'): string {
  const lines = source.split('\n');
  const out: string[] = [];
  const stack: Open[] = [];
  const fail = (at: number, message: string): never => {
    throw new Error(`resolveIfBlocks: ${name} line ${at + 1}: ${message}: ${lines[at]!.trim()}`);
  };
  const keeping = () => stack.length === 0 || (stack.at(-1)!.outer && stack.at(-1)!.condition !== stack.at(-1)!.inElse);
  lines.forEach((line, at) => {
    const marker = MARKER.exec(line);
    if (!marker) {
      if (NEAR_MARKER.test(line)) fail(at, 'not a marker this preprocessor knows (@if NAME, @if !NAME, @else, @endif)');
      if (keeping()) out.push(line);
      return;
    }
    const [, kind, rest] = marker as unknown as [string, 'if' | 'else' | 'endif', string];
    if (kind === 'if') {
      const flag = /^\s+(!?)([A-Za-z_]\w*)\s*$/.exec(rest);
      if (!flag) fail(at, '@if takes one flag name, optionally negated with !');
      const [, negate, flagName] = flag as unknown as [string, string, string];
      if (!(flagName in flags)) fail(at, `unknown flag ${flagName} (known: ${Object.keys(flags).join(', ') || 'none'})`);
      stack.push({ line: at, outer: keeping(), condition: flags[flagName] !== (negate === '!'), inElse: false });
      return;
    }
    if (rest.trim() !== '') fail(at, `@${kind} takes nothing after it`);
    const open = stack.at(-1);
    if (!open) fail(at, `@${kind} without an @if`);
    if (kind === 'else') {
      if (open!.inElse) fail(at, `second @else for the @if of line ${open!.line + 1}`);
      open!.inElse = true;
    } else {
      stack.pop();
    }
  });
  if (stack.length > 0) {
    const open = stack.at(-1)!;
    fail(open.line, '@if without its @endif');
  }
  return out.join('\n');
}
