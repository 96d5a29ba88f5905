/** Reductions along axes: sum, mean, max, argmax (int32 indices, first maximum wins). */
import type { ReduceOp } from '../backend.js';
import { normalizeAxis, sizeOf } from '../shape.js';
import { ShapeError, formatShape } from '../errors.js';
import { type Tensor, empty } from '../tensor.js';
import { assertFloat, withContiguous } from './util.js';

export interface ReduceOptions {
  /** Keep reduced dimensions with size 1 (like PyTorch's keepdim). */
  keepDims?: boolean;
}

function reduceAxis(op: ReduceOp, x: Tensor, axis: number, keepDims: boolean): Tensor {
  const a = normalizeAxis(axis, x.rank, op);
  const outer = sizeOf(x.shape.slice(0, a));
  const R = x.shape[a]!;
  const inner = sizeOf(x.shape.slice(a + 1));
  const shape = keepDims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  const out = empty(shape, op === 'argmax' ? 'int32' : x.dtype, x.device);
  if (out.size === 0) return out;
  if (R === 0 && op !== 'sum')
    throw new RangeError(`${op}: cannot reduce an empty axis ${axis} of shape [${x.shape.join(', ')}]`);
  withContiguous([x], (c) => x.device.backend.kernels.reduce(op, c!, outer, R, inner, out));
  return out;
}

/** Reduces over `axes` (all when omitted); several axes go one by one, last first. */
function reduce(op: ReduceOp, x: Tensor, axes: number | readonly number[] | undefined, options: ReduceOptions): Tensor {
  assertFloat(op, x);
  const keepDims = options.keepDims ?? false;
  if (axes === undefined) {
    const flat = x.reshape([x.size]);
    const r = reduceAxis(op, flat, 0, false);
    flat.dispose();
    if (!keepDims) return r;
    const shaped = r.reshape(x.shape.map(() => 1));
    r.dispose();
    return shaped;
  }
  const list = (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normalizeAxis(a, x.rank, op));
  if (op === 'argmax' && list.length !== 1) throw new RangeError('argmax: give exactly one axis');
  const sorted = [...new Set(list)].sort((p, q) => q - p);
  if (sorted.length !== list.length)
    throw new ShapeError(
      `${op}: axes [${(axes as readonly number[]).join(', ')}] name an axis twice (tensor of shape ${formatShape(x.shape)})`,
    );
  // Adjacent axes of a contiguous tensor are one axis: a bias gradient's sum over (B, T) of
  // (B, T, C) is one reduction over B * T rows, not two.
  if (sorted.length > 1 && op !== 'argmax' && x.isContiguous() && sorted[0]! - sorted.at(-1)! === sorted.length - 1) {
    const first = sorted.at(-1)!;
    const last = sorted[0]!;
    const merged = x.reshape([
      ...x.shape.slice(0, first),
      sizeOf(x.shape.slice(first, last + 1)),
      ...x.shape.slice(last + 1),
    ]);
    const r = reduceAxis(op, merged, first, false);
    merged.dispose();
    if (!keepDims) return r;
    const shaped = r.reshape(x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)));
    r.dispose();
    return shaped;
  }
  let current = x;
  for (const a of sorted) {
    const next = reduceAxis(op, current, a, keepDims);
    if (current !== x) current.dispose();
    current = next;
  }
  if (current === x) return x.contiguous();
  return current;
}

export const sum = (x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor =>
  reduce('sum', x, axes, options);
export const mean = (x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor =>
  reduce('mean', x, axes, options);
export const max = (x: Tensor, axes?: number | readonly number[], options: ReduceOptions = {}): Tensor =>
  reduce('max', x, axes, options);
export const argmax = (x: Tensor, axis: number, options: ReduceOptions = {}): Tensor =>
  reduce('argmax', x, axis, options);

/** Sums `x` down to `shape` (undoes a broadcast; used for gradients of broadcast operands). */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return x.contiguous();
  const summed = sum(x, axes, { keepDims: true });
  const out = summed.reshape(shape);
  summed.dispose();
  return out;
}
