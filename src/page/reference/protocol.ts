import type { Expected, HostTensor } from '../../attention/types.js';

/** A reference request: the family, its resolved shape, the inputs (copies, transferred) and the multiply-add budget. */
export interface ReferenceRequest {
  id: number;
  family: string;
  shape: object;
  inputs: Record<string, HostTensor>;
  budget: number;
}

export type ReferenceResponse = { id: number; expected: Expected; ms: number } | { id: number; error: string };
