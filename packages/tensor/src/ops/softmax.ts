/** Softmax over the last axis, optionally causal over the last two (queries x keys). */
import { ShapeError, formatShape } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { type Tensor, emptyLike } from '../tensor.js';
import { assertFloat, assertRankAtLeast, withContiguous } from './util.js';

export interface SoftmaxOptions {
  /**
   * Mask keys after each query: in (..., Tq, Tk) row i sees keys j <= i + Tk - Tq (so with a
   * KV cache the newest queries see every earlier key). Masked entries come out as 0.
   */
  causal?: boolean;
}

export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  assertFloat('softmax', x);
  assertRankAtLeast('softmax', 'input', x, 1);
  const n = x.shape[x.rank - 1]!;
  let causal: { tq: number; tk: number } | null = null;
  if (options.causal) {
    assertRankAtLeast('softmax (causal)', 'input', x, 2);
    const tq = x.shape[x.rank - 2]!;
    if (tq > n) throw new ShapeError(`softmax (causal): more queries than keys in ${formatShape(x.shape)}`);
    causal = { tq, tk: n };
  }
  const out = emptyLike(x);
  if (out.size === 0) return out;
  withContiguous([x], (c) => x.device.backend.kernels.softmax(c!, out, x.size / n, n, causal));
  return out;
}

/** dx = y * (dy - sum(dy * y)) along the last axis, y the softmax output. */
export function softmaxBackward(y: Tensor, dy: Tensor): Tensor {
  assertFloat('softmaxBackward', y, dy);
  if (!shapesEqual(y.shape, dy.shape))
    throw new ShapeError(`softmaxBackward: y ${formatShape(y.shape)} and dy ${formatShape(dy.shape)} differ`);
  const n = y.shape[y.rank - 1]!;
  const dx = emptyLike(y);
  if (dx.size === 0) return dx;
  withContiguous([y, dy], (cy, cdy) => y.device.backend.kernels.softmaxBackward(cy!, cdy!, dx, y.size / n, n));
  return dx;
}
