import type { Family } from '../types.js';
import { windowFlashKernel } from './flash/kernel.js';
import { windowProblem } from './problem.js';

export const windowFamily: Family = { problem: windowProblem, kernels: [windowFlashKernel] };
