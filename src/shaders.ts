// Every WGSL file, as text. Vite (page, tests) and esbuild (the command-line bundle) both turn
// `?raw` imports into strings, so Node and the browser compile the very same files.
import convertF16 from '../shaders/convert_f16.wgsl?raw';
import flashAttention from '../shaders/flash_attention.wgsl?raw';
import flashAttentionF16 from '../shaders/flash_attention_f16.wgsl?raw';
import flashAttentionMma from '../shaders/flash_attention_mma.wgsl?raw';
import flashKvFetchF16 from '../shaders/flash_kv_fetch_f16.wgsl?raw';
import flashRowReduceSubgroup from '../shaders/flash_row_reduce_subgroup.wgsl?raw';
import flashRowReduceWorkgroup from '../shaders/flash_row_reduce_workgroup.wgsl?raw';
import flashScatterSubgroup from '../shaders/flash_scatter_subgroup.wgsl?raw';
import flashScatterWorkgroup from '../shaders/flash_scatter_workgroup.wgsl?raw';
import naivePv from '../shaders/naive_pv.wgsl?raw';
import naiveScores from '../shaders/naive_scores.wgsl?raw';
import naiveSoftmax from '../shaders/naive_softmax.wgsl?raw';
import params from '../shaders/params.wgsl?raw';

export const SHADER_SOURCES = {
  'params.wgsl': params,
  'naive_scores.wgsl': naiveScores,
  'naive_softmax.wgsl': naiveSoftmax,
  'naive_pv.wgsl': naivePv,
  'flash_attention.wgsl': flashAttention,
  'flash_attention_f16.wgsl': flashAttentionF16,
  'flash_attention_mma.wgsl': flashAttentionMma,
  'flash_kv_fetch_f16.wgsl': flashKvFetchF16,
  'convert_f16.wgsl': convertF16,
  'flash_row_reduce_subgroup.wgsl': flashRowReduceSubgroup,
  'flash_row_reduce_workgroup.wgsl': flashRowReduceWorkgroup,
  'flash_scatter_subgroup.wgsl': flashScatterSubgroup,
  'flash_scatter_workgroup.wgsl': flashScatterWorkgroup,
} as const;

export type ShaderFile = keyof typeof SHADER_SOURCES;

const DIRECTIVE = /^\s*(?:enable\s+[^;]+|requires\s+[^;]+|diagnostic\s*\([^)]*\))\s*;\s*$/gm;

/**
 * Joins shader files into one module. WGSL wants its directives (`enable`, `requires`,
 * `diagnostic`) before any declaration, so they are lifted from every part to the top (once each).
 */
export function composeShader(files: readonly ShaderFile[]): string {
  const directives = new Set<string>();
  const bodies = files.map((file) =>
    SHADER_SOURCES[file].replace(DIRECTIVE, (line) => {
      directives.add(line.trim());
      return '';
    }),
  );
  return [...directives, ...bodies].join('\n');
}
