/**
 * View ops. Each gradient is the inverse view of the output's gradient (reshape back, inverse
 * permutation, sum over expanded dims, zeros around a slice): the rules are in ../registry.ts.
 */
import { type Variable, dataOf, record } from '../variable.js';

/** The same elements in `shape` (one dimension may be -1); a copy only when the layout needs it. */
export function reshape(x: Variable, shape: readonly number[]): Variable {
  return record('reshape', [x], dataOf('reshape', 'x', x).reshape(shape), {});
}

/** Axes reordered: output axis i is input axis `dims[i]`; a view, no copy. */
export function permute(x: Variable, dims: readonly number[]): Variable {
  return record('permute', [x], dataOf('permute', 'x', x).permute(dims), { dims });
}

/** Swaps two axes (default the last two, negative counts from the end); a view. */
export function transpose(x: Variable, dim0 = -2, dim1 = -1): Variable {
  const rank = x.shape.length;
  const dims = [...Array(rank).keys()];
  const a = dim0 < 0 ? dim0 + rank : dim0;
  const b = dim1 < 0 ? dim1 + rank : dim1;
  [dims[a], dims[b]] = [dims[b]!, dims[a]!];
  return permute(x, dims);
}

/** Inserts an axis of size 1 at `axis` (negative counts from the end of the output). */
export function unsqueeze(x: Variable, axis: number): Variable {
  const a = axis < 0 ? axis + x.shape.length + 1 : axis;
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Elements `start` to `end` (exclusive; default the end) along `axis`; a view. The gradient is zero elsewhere. */
export function slice(x: Variable, axis: number, start: number, end?: number): Variable {
  return record('slice', [x], dataOf('slice', 'x', x).slice(axis, start, end), { axis, start, end });
}

/** Broadcasts size-1 axes (and new leading ones) to `shape` without a copy; the gradient is summed back. */
export function expand(x: Variable, shape: readonly number[]): Variable {
  return record('expand', [x], dataOf('expand', 'x', x).expand(shape), {});
}

/** A row-major copy of a strided view (a view of the same storage when it is contiguous already). */
export function contiguous(x: Variable): Variable {
  return record('contiguous', [x], dataOf('contiguous', 'x', x).contiguous(), {});
}
