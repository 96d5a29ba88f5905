/**
 * Reductions and their backward: the gradient of a sum is broadcast back over the reduced
 * axes; of a mean, also divided by the count; of a max, sent to the maxima (split among ties,
 * as torch.amax does). argmax has no gradient.
 */
import * as T from '@mini/tensor';
import { type Variable, nonDifferentiable, record } from '../variable.js';

type Axes = number | readonly number[] | undefined;

function reducedAxes(rank: number, axes: Axes): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  return (typeof axes === 'number' ? [axes] : [...axes]).map((a) => (a < 0 ? a + rank : a));
}

/** g reshaped with the reduced axes kept as size 1, then broadcast to `shape`. */
function broadcastBack(g: T.Tensor, shape: readonly number[], axes: Axes): T.Tensor {
  const reduced = reducedAxes(shape.length, axes);
  const kept = shape.map((d, i) => (reduced.includes(i) ? 1 : d));
  return g.reshape(kept).expand(shape).contiguous();
}

export function sum(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  const out = T.sum(x.data, axes, options);
  return record('sum', [x], out, (g) => [T.tidy(() => broadcastBack(g, x.shape, axes))]);
}

export function mean(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  const out = T.mean(x.data, axes, options);
  const count = reducedAxes(x.shape.length, axes).reduce((p, a) => p * x.shape[a]!, 1);
  return record('mean', [x], out, (g) => [T.tidy(() => T.mul(broadcastBack(g, x.shape, axes), 1 / count))]);
}

export function max(x: Variable, axes?: Axes, options: T.ReduceOptions = {}): Variable {
  const out = T.max(x.data, axes, options);
  return record('max', [x], out, (g) => [T.tidy(() => {
    const isMax = T.eq(x.data, broadcastBack(out, x.shape, axes));
    const ties = broadcastBack(T.sum(isMax, axes, options), x.shape, axes);
    return T.div(T.mul(isMax, broadcastBack(g, x.shape, axes)), ties);
  })]);
}

export function argmax(x: Variable, axis: number, options: T.ReduceOptions = {}): Variable {
  return nonDifferentiable('argmax', T.argmax(x.data, axis, options));
}
