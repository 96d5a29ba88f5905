/**
 * Elementwise ops: each runs its @mini/tensor op and records its node; the backward rules are
 * the gradients of the elementwise table's rows (@mini/tensor's elementwise-ops.ts), looked up
 * by the gradient table (../registry.ts).
 */
import * as T from '@mini/tensor';
import type { Tensor } from '@mini/tensor';
import type { DifferentiableOp, SavedFor } from '../registry.js';
import { type Variable, dataOf, record } from '../variable.js';

type Unary = (x: Variable) => Variable;
type Binary = (a: Variable, b: Variable) => Variable;
/** The ops whose forward saves nothing but inputs and output. */
type NoSaved = { [K in DifferentiableOp]: Record<never, never> extends SavedFor[K] ? K : never }[DifferentiableOp];

const unary =
  (op: NoSaved, forward: (x: Tensor) => Tensor): Unary =>
  (x) =>
    record(op, [x], forward(dataOf(op, 'x', x)), {});
const binary =
  (op: NoSaved, forward: (a: Tensor, b: Tensor) => Tensor): Binary =>
  (a, b) =>
    record(op, [a, b], forward(dataOf(op, 'a', a), dataOf(op, 'b', b)), {});

export const neg = unary('neg', T.neg),
  exp = unary('exp', T.exp),
  log = unary('log', T.log),
  sqrt = unary('sqrt', T.sqrt);
export const rsqrt = unary('rsqrt', T.rsqrt),
  tanh = unary('tanh', T.tanh),
  abs = unary('abs', T.abs),
  relu = unary('relu', T.relu);
/** GPT-2's GELU (tanh approximation). */
export const gelu = unary('gelu', T.gelu);
export const square = unary('square', T.square);

/** x + s */
export const addScalar = (x: Variable, s: number) =>
  record('addScalar', [x], T.add(dataOf('addScalar', 'x', x), s), { s });
/** x * s */
export const mulScalar = (x: Variable, s: number) =>
  record('mulScalar', [x], T.mul(dataOf('mulScalar', 'x', x), s), { s });
/** x ** s */
export const powScalar = (x: Variable, s: number) =>
  record('powScalar', [x], T.pow(dataOf('powScalar', 'x', x), s), { s });
/** s - x */
export const rsubScalar = (s: number, x: Variable) =>
  record('rsubScalar', [x], T.rsub(s, dataOf('rsubScalar', 'x', x)), { s });
/** s / x */
export const rdivScalar = (s: number, x: Variable) =>
  record('rdivScalar', [x], T.rdiv(s, dataOf('rdivScalar', 'x', x)), { s });
/** max(x, s) elementwise; the gradient goes to x where x > s. */
export const maxScalar = (x: Variable, s: number) =>
  record('maxScalar', [x], T.maximum(dataOf('maxScalar', 'x', x), s), { s });
/** min(x, s) elementwise; the gradient goes to x where x < s. */
export const minScalar = (x: Variable, s: number) =>
  record('minScalar', [x], T.minimum(dataOf('minScalar', 'x', x), s), { s });

/** With NumPy broadcasting; the gradient of a stretched input is summed over its copies. */
export const add = binary('add', T.add),
  sub = binary('sub', T.sub),
  mul = binary('mul', T.mul),
  div = binary('div', T.div);
export const pow = binary('pow', T.pow),
  maximum = binary('maximum', T.maximum),
  minimum = binary('minimum', T.minimum);
