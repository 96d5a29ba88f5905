/** Reductions (sum, mean, max; argmax has no gradient). Their rules are in ../registry.ts. */
import * as T from '@mini/tensor';
import type { Axes } from '../registry.js';
import { type Variable, dataOf, nonDifferentiable, record } from '../variable.js';

/** Sum over `axes` (all when omitted; `keepDims` keeps them as size 1); the gradient is broadcast back. */
export function sum(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  return record('sum', [x], T.sum(dataOf('sum', 'x', x), axes, options), { axes });
}

/** Mean over `axes` (all when omitted); the gradient is broadcast back, divided by the count. */
export function mean(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  return record('mean', [x], T.mean(dataOf('mean', 'x', x), axes, options), { axes });
}

/**
 * Maximum over `axes` (all when omitted). The gradient goes to the maxima, split evenly between
 * tied ones.
 */
export function max(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  return record('max', [x], T.max(dataOf('max', 'x', x), axes, options), { axes, keepDims: options.keepDims ?? false });
}

/** Index (int32) of the first maximum along `axis`; not differentiable (a backward through it throws GradError). */
export function argmax(x: Variable, axis: number, options: T.ReduceOptions = {}): Variable {
  return nonDifferentiable('argmax', T.argmax(dataOf('argmax', 'x', x), axis, options));
}
