import type { Family } from '../types.js';
import { topkAttendKernel } from './attend/kernel.js';
import { topkIndexKernel } from './indexer/kernel.js';
import { topkPipelineKernel } from './pipeline/kernel.js';
import { topkAttendProblem, topkIndexProblem, topkProblem, topkSelectProblem } from './problems.js';
import { topkSelectKernel } from './select/kernel.js';

export const topk: Family = { problem: topkProblem, kernels: [topkPipelineKernel] };
/** Each stage as its own problem, so that each can be checked and timed alone. */
export const topkIndex: Family = { problem: topkIndexProblem, kernels: [topkIndexKernel] };
export const topkSelect: Family = { problem: topkSelectProblem, kernels: [topkSelectKernel] };
export const topkAttend: Family = { problem: topkAttendProblem, kernels: [topkAttendKernel] };

/** The whole pipeline and its three stages: the one entry of src/attention/registry.ts. */
export const TOPK_FAMILIES: readonly Family[] = [topk, topkIndex, topkSelect, topkAttend];
