/**
 * The fast CPU backend: the reference backend's storage and kernels, with matmul (where the
 * time goes) replaced by the WebAssembly SIMD kernel and the elementwise kernels by loops
 * without index arrays. More kernels move here as they are
 * written; the reference backend stays the plain-loop oracle the tests compare against.
 */
import type { Kernels } from '../backend.js';
import { CpuBackend, referenceKernels } from '../cpu/backend.js';
import { binary, copy, unary } from './elementwise.js';
import { matmul } from './matmul.js';

export const fastKernels: Kernels = { ...referenceKernels, matmul, copy, unary, binary };

export function createFastCpuBackend(): CpuBackend {
  return new CpuBackend(fastKernels);
}
