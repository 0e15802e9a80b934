import type { SweepSpec } from './sweep.js';

/** Named sweeps for `--suite`; flags given next to a suite override its fields. */
export interface Suite {
  description: string;
  spec: Omit<SweepSpec, 'tiles'>;
}

export const SUITES: Record<string, Suite> = {
  quick: {
    description: 'B=1, H=4, d=64, N ∈ {256, 512}, naive and flash: small enough for a software adapter (the default).',
    spec: { kernels: ['naive', 'flash'], batch: [1], heads: [4], kvHeads: undefined, seq: [256, 512], seqQ: undefined, dims: [64], causal: [false] },
  },
};
