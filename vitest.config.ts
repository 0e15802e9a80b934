import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // GPU tests compile shaders and run on SwiftShader (a CPU Vulkan): slow but real.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // SwiftShader already uses every core; two files at a time keeps the machine responsive.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
