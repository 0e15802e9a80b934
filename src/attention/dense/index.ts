import type { Family } from '../types.js';
import { flashF16Kernel, flashKernel } from './flash/kernel.js';
import { flashMmaKernel } from './flash-mma/kernel.js';
import { naiveKernel } from './naive/kernel.js';
import { denseProblem } from './problem.js';

export const dense: Family = { problem: denseProblem, kernels: [naiveKernel, flashKernel, flashF16Kernel, flashMmaKernel] };
