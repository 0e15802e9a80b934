import { AttentionInputError } from '../errors.js';
import { decode } from './decode/index.js';
import { dense } from './dense/index.js';
import { kvcache } from './kvcache/index.js';
import { linear } from './linear/index.js';
import { mla } from './mla/index.js';
import { TOPK_FAMILIES } from './topk/index.js';
import type { Family, KernelDescriptor, Problem } from './types.js';
import { windowFamily } from './window/index.js';

/** Every family, one line each: the CLI, the page, the harness and the tests read this list. */
export const FAMILIES: readonly Family[] = [dense, decode, mla, windowFamily, ...TOPK_FAMILIES, linear, kvcache];

/** Every kernel of every family, by name. */
export const KERNELS: readonly KernelDescriptor[] = FAMILIES.flatMap((f) => f.kernels);

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

export function familyNames(): string[] {
  return FAMILIES.map((f) => f.problem.family);
}

export function getFamily(name: string): Family {
  const family = FAMILIES.find((f) => f.problem.family === name);
  if (!family) throw new AttentionInputError(`unknown family "${name}"; known families: ${familyNames().join(', ')}`);
  return family;
}

export function getProblem(name: string): Problem<any> {
  return getFamily(name).problem;
}
