import type { Family } from '../types.js';
import { decodeProblem } from './problem.js';
import { decodeSplitKernel } from './split/kernel.js';

export const decode: Family = { problem: decodeProblem, kernels: [decodeSplitKernel] };
