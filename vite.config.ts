import { defineConfig } from 'vite';

// The benchmark page. `base: './'` makes every URL in dist/ relative, so the build works from any
// static server and any subpath (GitHub Pages, a USB stick served with `python -m http.server`).
export default defineConfig({
  base: './',
  // The reference worker imports harness modules: ES module workers keep them as shared chunks.
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    target: 'es2022',
    // Everything (uPlot's CSS included) is bundled; the page never asks another host for anything.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
