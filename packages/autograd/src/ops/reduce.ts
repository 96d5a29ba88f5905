/** Reductions (sum, mean, max; argmax has no gradient). Their rules are in ../registry.ts. */
import * as T from '@mini/tensor';
import type { Axes } from '../registry.js';
import { type Variable, nonDifferentiable, record } from '../variable.js';

export function sum(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  return record('sum', [x], T.sum(x.data, axes, options), { axes });
}

export function mean(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  return record('mean', [x], T.mean(x.data, axes, options), { axes });
}

export function max(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  return record('max', [x], T.max(x.data, axes, options), { axes, keepDims: options.keepDims ?? false });
}

export function argmax(x: Variable, axis: number, options: T.ReduceOptions = {}): Variable {
  return nonDifferentiable('argmax', T.argmax(x.data, axis, options));
}
