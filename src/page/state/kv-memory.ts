import type { ShapeValue } from '../../attention/types.js';
import { type PageConfig, defaultConfig, problemOf } from './config.js';

/**
 * What a model keeps per sequence while it generates: a KV cache that grows with the context
 * (full attention), one capped at a window (sliding window), a latent (MLA), or a fixed state
 * (linear attention), from published configurations. Numbers are elements; the caller picks the
 * element size (f16 or f32).
 */
export interface KvPreset {
  id: string;
  name: string;
  /** Where the numbers come from (the model's published config.json or paper). */
  source: string;
  /** What is cached, in words, with the numbers used. */
  summary: string;
  /** Elements cached per token, over all layers (K and V, or the latent). */
  perToken: number;
  /** Tokens kept at most (a sliding window's rolling buffer); null: every token. */
  window: number | null;
  /** Elements of fixed-size state per sequence (recurrent layers), whatever the context. */
  state: number;
  /** The family whose shape controls this preset fills, and the fields it sets there. */
  family: string;
  shape: Record<string, ShapeValue>;
  /** Other families' fields this preset can fill when one of them is shown (e.g. a hybrid's attention layers). */
  alsoFills?: { family: string; shape: Record<string, ShapeValue> }[];
}

export const KV_PRESETS: readonly KvPreset[] = [
  {
    // Llama 3 8B, config.json of meta-llama/Meta-Llama-3-8B: num_hidden_layers 32,
    // num_attention_heads 32, num_key_value_heads 8, hidden_size 4096 (head dim 4096 / 32 = 128).
    id: 'llama3-8b',
    name: 'Llama-3-8B',
    source: 'https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json',
    summary: '32 layers × K and V × 8 KV heads × d 128 per token (grouped-query attention, 32 query heads)',
    perToken: 32 * 2 * 8 * 128,
    window: null,
    state: 0,
    family: 'decode',
    shape: { heads: 32, kvHeads: 8, headDim: 128 },
    alsoFills: [{ family: 'dense', shape: { heads: 32, kvHeads: 8, headDim: 128 } }],
  },
  {
    // DeepSeek-V3, config.json of deepseek-ai/DeepSeek-V3: num_hidden_layers 61, kv_lora_rank 512,
    // qk_rope_head_dim 64, num_attention_heads 128. Multi-head latent attention caches one 512-wide
    // latent and one 64-wide RoPE key per token per layer, shared by all heads; absorbed into the
    // query, decoding is multi-query attention over the 576-wide cache row (values use its first 512).
    // That is the mla family's kernel, so "Use this shape" always switches there (no alsoFills:
    // decode's or dense's GQA with one KV head of d 576 would only approximate it).
    id: 'deepseek-v3',
    name: 'DeepSeek-V3 (MLA)',
    source: 'https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json',
    summary: '61 layers × (latent 512 + RoPE key 64) per token, shared by the 128 heads',
    perToken: 61 * (512 + 64),
    window: null,
    state: 0,
    family: 'mla',
    shape: { heads: 128, kvLora: 512, ropeDim: 64 },
  },
  {
    // Qwen3-Next-80B-A3B, config.json of Qwen/Qwen3-Next-80B-A3B-Instruct: num_hidden_layers 48,
    // full_attention_interval 4 (12 full-attention layers, 36 Gated DeltaNet layers); full attention:
    // num_key_value_heads 2, head_dim 256; Gated DeltaNet: linear_num_value_heads 32,
    // linear_num_key_heads 16, linear_key_head_dim 128, linear_value_head_dim 128,
    // linear_conv_kernel_dim 4. Each DeltaNet layer keeps a 128×128 state per value head and the
    // short convolution's last 3 inputs of its q, k and v channels (3 × (2·16·128 + 32·128)).
    id: 'qwen3-next',
    name: 'Qwen3-Next-80B-A3B',
    source: 'https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct/blob/main/config.json',
    summary: '12 full-attention layers × K and V × 2 KV heads × d 256 per token; 36 Gated DeltaNet layers × 32 heads × 128×128 state (+ conv state)',
    perToken: 12 * 2 * 2 * 256,
    window: null,
    state: 36 * (32 * 128 * 128 + 3 * (2 * 16 * 128 + 32 * 128)),
    family: 'linear',
    shape: { heads: 32, dk: 128, dv: 128 },
    alsoFills: [
      { family: 'dense', shape: { heads: 16, kvHeads: 2, headDim: 256 } },
      { family: 'decode', shape: { heads: 16, kvHeads: 2, headDim: 256 } },
    ],
  },
  {
    // Mistral 7B v0.1, config.json of mistralai/Mistral-7B-v0.1: num_hidden_layers 32,
    // num_attention_heads 32, num_key_value_heads 8, hidden_size 4096 (d 128), sliding_window 4096:
    // a rolling buffer of the last 4096 tokens (the Mistral 7B paper, arXiv:2310.06825, section 2).
    id: 'mistral-7b',
    name: 'Mistral-7B v0.1 (sliding window)',
    source: 'https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json',
    summary: '32 layers × K and V × 8 KV heads × d 128 per token, at most the last 4096 tokens',
    perToken: 32 * 2 * 8 * 128,
    window: 4096,
    state: 0,
    family: 'window',
    shape: { heads: 32, kvHeads: 8, headDim: 128, window: 4096 },
  },
];

export type ElementType = 'f16' | 'f32';
export const ELEMENT_BYTES: Record<ElementType, number> = { f16: 2, f32: 4 };

/** Bytes one sequence keeps at a context of `tokens`: the (windowed) cache plus any fixed state. */
export function kvBytes(preset: KvPreset, tokens: number, type: ElementType): number {
  const cached = preset.window === null ? tokens : Math.min(tokens, preset.window);
  return (cached * preset.perToken + preset.state) * ELEMENT_BYTES[type];
}

/** Bytes cached per token of context (0 once a window is full: then it is a rolling buffer). */
export function bytesPerToken(preset: KvPreset, type: ElementType): number {
  return preset.perToken * ELEMENT_BYTES[type];
}

/** Context lengths of the chart: powers of two from 1K to 1M. */
export const KV_LENGTHS: readonly number[] = Array.from({ length: 11 }, (_, i) => 1024 << i);
export const MAX_CONTEXT = 1 << 20;

/** A context length typed by the user, or the reason it is refused (one line naming the limit). */
export function parseContext(text: string): { value: number } | { error: string } {
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_CONTEXT)
    return { error: `context length must be a whole number from 1 to ${MAX_CONTEXT}, got "${text}"` };
  return { value };
}

/**
 * The configuration with a preset's shape filled in: into the family shown when it has the
 * fields (a hybrid fills its attention layers' shape into dense or decode), else into the
 * preset's own family, which is then shown.
 */
export function applyPreset(config: PageConfig, preset: KvPreset): PageConfig {
  const options = [{ family: preset.family, shape: preset.shape }, ...(preset.alsoFills ?? [])];
  const here = options.find((o) => o.family === problemOf(config).family);
  const base = here ? config : defaultConfig(preset.family);
  const shape = here ? here.shape : preset.shape;
  return { ...base, shape: { ...base.shape, ...shape } };
}
