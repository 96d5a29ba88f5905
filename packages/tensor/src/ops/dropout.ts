/**
 * Dropout with a seeded mask: a counter-based one (Generator: the backward recomputes it) or
 * PyTorch's (TorchGenerator: drawn on the host, element by element, and kept for the backward).
 */
import type { DropoutMask } from '../backend.js';
import { type Generator, defaultGenerator } from '../random.js';
import { TorchGenerator } from '../torch-random.js';
import { type Tensor, emptyLike } from '../tensor.js';
import { assertFloat, withContiguous } from './util.js';

export interface DropoutResult {
  out: Tensor;
  /** What the backward needs to drop the same elements: p, key and stream. */
  mask: DropoutMask;
}

export function dropout(
  x: Tensor,
  p: number,
  generator: Generator | TorchGenerator = defaultGenerator(),
): DropoutResult {
  assertFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  const mask = drawDropoutMask(p, generator, x.size);
  return { out: applyDropoutMask(x, mask), mask };
}

/**
 * The next dropout mask of `generator`: what `dropout` applies, and what fused attention
 * applies to its weights, so either path drops the same elements. A Generator gives one stream;
 * a TorchGenerator draws the keep mask of `size` elements as PyTorch's CPU dropout does (two
 * words an element; none for p = 0 or 1, as PyTorch), so `size` is required with one (RangeError).
 */
export function drawDropoutMask(
  p: number,
  generator: Generator | TorchGenerator = defaultGenerator(),
  size?: number,
): DropoutMask {
  if (generator instanceof TorchGenerator) {
    if (!(size !== undefined && Number.isInteger(size) && size >= 0))
      throw new RangeError('drawDropoutMask: a TorchGenerator needs the element count of the mask');
    return { p, key: [0, 0], stream: 0, keep: generator.dropoutKeep(size, p) };
  }
  return { p, key: generator.key, stream: generator.takeStream() };
}

/** x with `mask` applied: dropout's forward and, on the upstream gradient, its backward. */
export function applyDropoutMask(x: Tensor, mask: DropoutMask): Tensor {
  assertFloat('dropout', x);
  const out = emptyLike(x);
  if (out.size > 0) withContiguous([x], (c) => x.device.backend.kernels.dropout(c!, out, mask));
  return out;
}
