import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // GPU tests compile shaders and run on SwiftShader (a CPU Vulkan): slow but real.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // SwiftShader already uses every core; two files at a time keeps the machine responsive.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'harness', include: ['test/**/*.test.ts'], exclude: ['test/browser/**'], sequence: { groupOrder: 0 } },
      },
      {
        // The page's tests start Chromium, whose SwiftShader competes with Dawn's for the same
        // cores: run after the harness's GPU tests, not beside them, or time budgets there (the
        // autotuner's) run out under the load.
        extends: true,
        test: { name: 'page', include: ['test/browser/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
