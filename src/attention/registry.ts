import { AttentionInputError } from '../errors.js';
import { flashF16Kernel, flashKernel } from './dense/flash/kernel.js';
import { flashMmaKernel } from './dense/flash-mma/kernel.js';
import { naiveKernel } from './dense/naive/kernel.js';
import type { KernelDescriptor } from './legacy-types.js';

/** Every kernel the harness can run, by name. Add a kernel here and the CLI, page and tests see it. */
export const KERNELS: readonly KernelDescriptor[] = [naiveKernel, flashKernel, flashF16Kernel, flashMmaKernel];

export function kernelNames(): string[] {
  return KERNELS.map((k) => k.name);
}

export function getKernel(name: string): KernelDescriptor {
  const kernel = KERNELS.find((k) => k.name === name);
  if (!kernel) {
    throw new AttentionInputError(`unknown kernel "${name}"; known kernels: ${kernelNames().join(', ')}`);
  }
  return kernel;
}
