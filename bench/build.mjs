// Bundles the command-line runner into one file (.build/bench.mjs) that plain `node` runs, here
// and on a bare GPU machine. WGSL files are inlined as text, exactly as Vite does for the page.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
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

// The commit the bundle was built from: a GPU machine's copy of the tree may have no .git, or a
// stale one. Uncommitted changes to tracked files are marked, so a result never claims a commit it
// did not run.
function buildCommit() {
  try {
    const git = (...args) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${head}+dirty` : head;
  } catch {
    return '';
  }
}

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
  external: ['webgpu', 'playwright-core'],
  plugins: [rawPlugin],
  define: { __BUILD_COMMIT__: JSON.stringify(buildCommit()) },
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
