/**
 * Memory admission: what a model's weights (or one batch's activations) take, checked against
 * the memory the machine has before anything is allocated, so that a model larger than the
 * machine is refused with the sizes instead of growing until the kernel kills the process.
 */
import { MiniGptError } from '@mini/tensor';
import type { GPTConfig } from './config.js';
import { parameterShapes } from './parameters.js';
import { type WeightDType, storageDType } from './weight-dtype.js';

const BYTES: Record<WeightDType, number> = { float32: 4, float16: 2, bfloat16: 2 };

/** Bytes of a model's parameters held in `dtype` (matrices in `dtype`, vectors in float32; see storageDType). */
export function weightBytes(config: GPTConfig, dtype: WeightDType): number {
  let bytes = 0;
  for (const shape of Object.values(parameterShapes(config)))
    bytes += BYTES[storageDType(shape, dtype)] * shape.reduce((p, d) => p * d, 1);
  return bytes;
}

/** More memory is needed than the machine has available: `needed` and `available` in bytes. */
export class MemoryError extends MiniGptError {
  override name = 'MemoryError';
  constructor(
    message: string,
    readonly needed: number,
    readonly available: number,
  ) {
    super(message);
  }
}

/** Bytes as the user reads them: "65.0 GB" (powers of 1000). */
export function formatGB(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/**
 * Throws MemoryError "<what>: needs 65.0 GB for <purpose>, 22.1 GB available" when `needed`
 * bytes exceed `available` bytes; returns otherwise.
 */
export function admitMemory(what: string, purpose: string, needed: number, available: number): void {
  if (needed > available)
    throw new MemoryError(
      `${what}: needs ${formatGB(needed)} for ${purpose}, ${formatGB(available)} available`,
      needed,
      available,
    );
}
