// Kernels import their WGSL files directly (`import text from './x.wgsl?raw'`): Vite (page, tests)
// and esbuild (the command-line bundle) both turn `?raw` imports into strings, so Node and the
// browser compile the very same files, and a kernel's shaders live beside its TypeScript.

const DIRECTIVE = /^\s*(?:enable\s+[^;]+|requires\s+[^;]+|diagnostic\s*\([^)]*\))\s*;\s*$/gm;

/**
 * Joins WGSL sources into one module. WGSL wants its directives (`enable`, `requires`,
 * `diagnostic`) before any declaration, so they are lifted from every part to the top (once each).
 */
export function composeShader(parts: readonly string[]): string {
  const directives = new Set<string>();
  const bodies = parts.map((source) =>
    source.replace(DIRECTIVE, (line) => {
      directives.add(line.trim());
      return '';
    }),
  );
  return [...directives, ...bodies].join('\n');
}
