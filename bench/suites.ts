import type { ShapeValue } from '../src/index.js';

/** Named sweeps for `--suite`; flags given next to a suite override its fields. */
export interface Suite {
  description: string;
  kernels: string[];
  /** Shape field values by field key (see each family's problem). */
  values: Record<string, ShapeValue[]>;
}

export const SUITES: Record<string, Suite> = {
  gpu: {
    description:
      'B=1, H=16, d ∈ {64, 128}, N ∈ {512 … 16384}, causal and not; naive, flash, flash-f16 and flash-mma. Naive runs up to the lengths where its N² S and P buffers fit the device (a stated reason beyond); flash-f16 where the device has shader-f16, flash-mma where it also has subgroup matrices.',
    kernels: ['naive', 'flash', 'flash-f16', 'flash-mma'],
    values: { headDim: [64, 128], causal: [false, true], batch: [1], heads: [16], seqK: [512, 1024, 2048, 4096, 8192, 16384] },
  },
  quick: {
    description: 'B=1, H=4, d=64, N ∈ {256, 512}, naive and flash: small enough for a software adapter (the default).',
    kernels: ['naive', 'flash'],
    values: { headDim: [64], causal: [false], batch: [1], heads: [4], seqK: [256, 512] },
  },
};
