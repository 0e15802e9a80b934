import type { Family } from '../types.js';
import { compactKernel } from './compact/kernel.js';
import { kvCacheProblem } from './problem.js';

export { blockAccounting, type BlockAccounting } from './reference.js';
export const kvcache: Family = { problem: kvCacheProblem, kernels: [compactKernel] };
