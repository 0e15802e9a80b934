// Bundles the command-line runner into one file (.build/bench.mjs) that plain `node` runs, here
// and on a bare GPU machine. WGSL files are inlined as text, exactly as Vite does for the page.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const rawPlugin = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)),
      namespace: 'raw',
    }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
      watchFiles: [args.path],
    }));
  },
};

const entries = { bench: 'bench/cli.ts', ...Object.fromEntries(process.argv.slice(2).map((e) => [path.parse(e).name, e])) };
await build({
  entryPoints: entries,
  outdir: '.build',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  // dawn.node is a native addon: resolved from node_modules at run time.
  external: ['webgpu'],
  plugins: [rawPlugin],
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
