/**
 * Elementwise ops and their backward rules. Broadcasting is undone with sumTo: an input
 * that was stretched receives the sum of the gradients of its copies.
 */
import * as T from '@mini/tensor';
import type { Tensor } from '@mini/tensor';
import { type Variable, record } from '../variable.js';

type Unary = (x: Variable) => Variable;

/** Records a unary op: `rule(x, y, g)` is dL/dx given dL/dy = g. */
function unary(op: Parameters<typeof record>[0], forward: (x: Tensor) => Tensor, rule: (x: Tensor, y: Tensor, g: Tensor) => Tensor): Unary {
  return (x) => {
    const y = forward(x.data);
    return record(op, [x], y, (g) => [T.tidy(() => rule(x.data, y, g))]);
  };
}

export const neg = unary('neg', T.neg, (_x, _y, g) => T.neg(g));
export const exp = unary('exp', T.exp, (_x, y, g) => T.mul(g, y));
export const log = unary('log', T.log, (x, _y, g) => T.div(g, x));
export const sqrt = unary('sqrt', T.sqrt, (_x, y, g) => T.div(T.mul(g, 0.5), y));
// d/dx x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
export const rsqrt = unary('rsqrt', T.rsqrt, (_x, y, g) => T.mul(g, T.mul(T.pow(y, 3), -0.5)));
export const tanh = unary('tanh', T.tanh, (_x, y, g) => T.mul(g, T.rsub(1, T.square(y))));
// NOTE: at x = 0, abs and relu pass gradient 0, as PyTorch does.
export const abs = unary('abs', T.abs, (x, _y, g) => T.mul(g, T.sign(x)));
export const relu = unary('relu', T.relu, (_x, y, g) => T.mul(g, T.sign(y)));
export const gelu = unary('gelu', T.gelu, (x, _y, g) => T.geluBackward(x, g));
export const square = unary('square', T.square, (x, _y, g) => T.mul(g, T.mul(x, 2)));

export const addScalar = (x: Variable, s: number) => unary('addScalar', (t) => T.add(t, s), (_x, _y, g) => g.contiguous())(x);
export const mulScalar = (x: Variable, s: number) => unary('mulScalar', (t) => T.mul(t, s), (_x, _y, g) => T.mul(g, s))(x);
export const powScalar = (x: Variable, s: number) => unary('powScalar', (t) => T.pow(t, s), (x, _y, g) => T.mul(g, T.mul(T.pow(x, s - 1), s)))(x);
/** s - x */
export const rsubScalar = (s: number, x: Variable) => unary('rsubScalar', (t) => T.rsub(s, t), (_x, _y, g) => T.neg(g))(x);
/** s / x */
export const rdivScalar = (s: number, x: Variable) => unary('rdivScalar', (t) => T.rdiv(s, t), (x, _y, g) => T.mul(g, T.div(T.rdiv(-s, x), x)))(x);
// The gradient passes where x > s (PyTorch's clamp passes it where x >= s: they differ only at ties).
export const maxScalar = (x: Variable, s: number) => unary('maxScalar', (t) => T.maximum(t, s), (x, _y, g) => T.mul(g, T.sign(T.relu(T.sub(x, s)))))(x);
export const minScalar = (x: Variable, s: number) => unary('minScalar', (t) => T.minimum(t, s), (x, _y, g) => T.mul(g, T.sign(T.relu(T.rsub(s, x)))))(x);

type Binary = (a: Variable, b: Variable) => Variable;

/** Records a binary op: `rule` gives (dL/da, dL/db) at the broadcast shape; sumTo folds them. */
function binary(op: Parameters<typeof record>[0], forward: (a: Tensor, b: Tensor) => Tensor, rule: (a: Tensor, b: Tensor, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null]): Binary {
  return (a, b) => {
    const y = forward(a.data, b.data);
    return record(op, [a, b], y, (g) => T.tidy(() => {
      const [da, db] = rule(a.data, b.data, y, g);
      return [
        a.requiresGrad && da ? T.sumTo(da, a.shape) : null,
        b.requiresGrad && db ? T.sumTo(db, b.shape) : null,
      ];
    }));
  };
}

export const add = binary('add', T.add, (_a, _b, _y, g) => [g, g]);
export const sub = binary('sub', T.sub, (_a, _b, _y, g) => [g, T.neg(g)]);
export const mul = binary('mul', T.mul, (a, b, _y, g) => [T.mul(g, b), T.mul(g, a)]);
export const div = binary('div', T.div, (_a, b, y, g) => [T.div(g, b), T.neg(T.div(T.mul(g, y), b))]);
// d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a (defined for a > 0).
export const pow = binary('pow', T.pow, (a, b, y, g) => [T.mul(g, T.mul(b, T.pow(a, T.sub(b, 1)))), T.mul(g, T.mul(y, T.log(a)))]);
// Ties split the gradient in half, as PyTorch's maximum/minimum do.
function tieSplit(winner: Tensor, tie: Tensor, g: Tensor): Tensor {
  return T.mul(g, T.add(winner, T.mul(tie, 0.5)));
}
export const maximum = binary('maximum', T.maximum, (a, b, _y, g) => [tieSplit(T.gt(a, b), T.eq(a, b), g), tieSplit(T.lt(a, b), T.eq(a, b), g)]);
export const minimum = binary('minimum', T.minimum, (a, b, _y, g) => [tieSplit(T.lt(a, b), T.eq(a, b), g), tieSplit(T.gt(a, b), T.eq(a, b), g)]);
