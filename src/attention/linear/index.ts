import type { Family } from '../types.js';
import { chunkedF16Kernel, chunkedKernel } from './chunked/kernel.js';
import { chunkedMmaKernel } from './chunked-mma/kernel.js';
import { linearProblem } from './problem.js';
import { recurrentF16Kernel, recurrentKernel } from './recurrent/kernel.js';

export const linear: Family = { problem: linearProblem, kernels: [recurrentKernel, chunkedKernel, recurrentF16Kernel, chunkedF16Kernel, chunkedMmaKernel] };
