import type { Family } from '../types.js';
import { mlaProblem } from './problem.js';
import { mlaRowsKernel } from './rows/kernel.js';
import { mlaSplitKernel } from './split/kernel.js';

export const mla: Family = { problem: mlaProblem, kernels: [mlaSplitKernel, mlaRowsKernel] };
