import type { SweepSpec } from './sweep.js';

/** Named sweeps for `--suite`; flags given next to a suite override its fields. */
export interface Suite {
  description: string;
  spec: Omit<SweepSpec, 'tiles'>;
}

export const SUITES: Record<string, Suite> = {
  gpu: {
    description:
      'B=1, H=16, d ∈ {64, 128}, N ∈ {512 … 16384}, causal and not; naive, flash, flash-f16 and flash-mma. Naive runs up to the lengths where its N² S and P buffers fit the device (a stated reason beyond); flash-f16 where the device has shader-f16, flash-mma where it also has subgroup matrices.',
    spec: {
      kernels: ['naive', 'flash', 'flash-f16', 'flash-mma'],
      batch: [1],
      heads: [16],
      kvHeads: undefined,
      seq: [512, 1024, 2048, 4096, 8192, 16384],
      seqQ: undefined,
      dims: [64, 128],
      causal: [false, true],
    },
  },
  quick: {
    description: 'B=1, H=4, d=64, N ∈ {256, 512}, naive and flash: small enough for a software adapter (the default).',
    spec: { kernels: ['naive', 'flash'], batch: [1], heads: [4], kvHeads: undefined, seq: [256, 512], seqQ: undefined, dims: [64], causal: [false] },
  },
};
