import type { Family } from '../types.js';
import { windowFlashMmaKernel } from './flash-mma/kernel.js';
import { windowFlashF16Kernel, windowFlashKernel } from './flash/kernel.js';
import { windowProblem } from './problem.js';

export const windowFamily: Family = { problem: windowProblem, kernels: [windowFlashKernel, windowFlashF16Kernel, windowFlashMmaKernel] };
