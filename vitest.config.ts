import { basename } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The slowest test files on SwiftShader, longest first (a clean run here: linear 136 s, gpu-kernels
 * 90, mla 68, linear-mma 51, cli 36, window, topk and decode about 24, gpu-autotune 19, gpu-errors
 * 13, kvcache 9). vitest orders files by the durations it cached on an earlier run; a clean clone
 * (CI) has none and falls back to file size, which started gpu-kernels last and left one worker
 * idle for half a minute at the end (vitest 352 s where the cached order took 329).
 */
const LONGEST_FIRST = ['linear', 'gpu-kernels', 'mla', 'linear-mma', 'cli', 'window', 'topk', 'decode', 'gpu-autotune', 'gpu-errors', 'kvcache'];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const at = LONGEST_FIRST.indexOf(basename(f.moduleId, '.test.ts'));
      return at < 0 ? LONGEST_FIRST.length : at;
    };
    // Within a project (the page's run after the harness's), the listed files first; the rest keep
    // vitest's order (the sort is stable).
    return [...base].sort((a, b) => {
      const group = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      return group !== 0 ? group : rank(a) - rank(b);
    });
  }
}

export default defineConfig({
  test: {
    // GPU tests compile shaders and run on SwiftShader (a CPU Vulkan): slow but real.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // SwiftShader already uses every core; two files at a time keeps the machine responsive.
    maxWorkers: 2,
    reporters: ['default'],
    sequence: { sequencer: LongestFirst },
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
