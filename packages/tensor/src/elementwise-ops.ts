/**
 * The elementwise ops, one row each: the CPU function written from the maths (float64, the
 * reference), the WGSL expression the WebGPU backend compiles (webgpu/elementwise.ts builds one
 * shader per op from it: no switch, so no fall-through to a wrong op), and the gradient, where
 * the op has one, as tensor ops on (x, y = f(x), g = dL/dy). Adding an op is one row here plus
 * its named function in ops/elementwise.ts; a row without a CPU function, WGSL expression or
 * gradient field fails tsc.
 * NOTE: the CPU function and the WGSL are two independent writings of the same maths (never one
 * derived from the other), so the tests comparing them catch a mistake in either.
 * WGSL names: unary rows see `x` and the scalar `s`; binary rows `a` and `b`; lib_math.wgsl's
 * helpers (gelu, safe_tanh, pow_real) are in scope.
 */
import type * as Ops from './ops/elementwise.js';
import type { Tensor } from './tensor.js';

/** The tensor ops a gradient is written with (passed in: this table imports no op at run time). */
export type ElementwiseOps = typeof Ops;

export interface UnaryDef {
  /** f(x, s) in float64; s is the scalar of the *_scalar forms (0 otherwise). */
  readonly cpu: (x: number, s: number) => number;
  /** f as a WGSL f32 expression of `x` and `s`. */
  readonly wgsl: string;
  /** dL/dx given dL/dy = g, or null where the op has no gradient. */
  readonly grad: ((T: ElementwiseOps, x: Tensor, y: Tensor, g: Tensor, s: number) => Tensor) | null;
}

export interface BinaryDef {
  readonly cpu: (a: number, b: number) => number;
  /** f as a WGSL f32 expression of `a` and `b`. */
  readonly wgsl: string;
  /** (dL/da, dL/db) at the broadcast shape given dL/dy = g (the caller folds broadcasts), or null. */
  readonly grad: ((T: ElementwiseOps, a: Tensor, b: Tensor, y: Tensor, g: Tensor) => readonly [Tensor, Tensor]) | null;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/** GPT-2's GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)));
}

/** d gelu / dx of the tanh approximation. */
export function geluDerivative(x: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x);
}

const step = (T: ElementwiseOps, t: Tensor) => T.sign(T.relu(t)); // 1 where t > 0, else 0

export const unaryOpTable = {
  neg: { cpu: (x) => -x, wgsl: '-x', grad: (T, _x, _y, g) => T.neg(g) },
  exp: { cpu: Math.exp, wgsl: 'exp(x)', grad: (T, _x, y, g) => T.mul(g, y) },
  log: { cpu: Math.log, wgsl: 'log(x)', grad: (T, x, _y, g) => T.div(g, x) },
  sqrt: { cpu: Math.sqrt, wgsl: 'sqrt(x)', grad: (T, _x, y, g) => T.div(T.mul(g, 0.5), y) },
  // d/dx x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
  rsqrt: {
    cpu: (x) => 1 / Math.sqrt(x),
    wgsl: 'inverseSqrt(x)',
    grad: (T, _x, y, g) => T.mul(g, T.mul(T.pow(y, 3), -0.5)),
  },
  tanh: { cpu: Math.tanh, wgsl: 'safe_tanh(x)', grad: (T, _x, y, g) => T.mul(g, T.rsub(1, T.square(y))) },
  // NOTE: at x = 0, abs and relu pass gradient 0, as PyTorch does.
  abs: { cpu: Math.abs, wgsl: 'abs(x)', grad: (T, x, _y, g) => T.mul(g, T.sign(x)) },
  relu: { cpu: (x) => Math.max(x, 0), wgsl: 'max(x, 0.0)', grad: (T, _x, y, g) => T.mul(g, T.sign(y)) },
  gelu: { cpu: gelu, wgsl: 'gelu(x)', grad: (T, x, _y, g) => T.geluBackward(x, g) },
  square: { cpu: (x) => x * x, wgsl: 'x * x', grad: (T, x, _y, g) => T.mul(g, T.mul(x, 2)) },
  sign: { cpu: (x) => Math.sign(x), wgsl: 'sign(x)', grad: null },
  add_scalar: { cpu: (x, s) => x + s, wgsl: 'x + s', grad: (_T, _x, _y, g) => g.contiguous() },
  mul_scalar: { cpu: (x, s) => x * s, wgsl: 'x * s', grad: (T, _x, _y, g, s) => T.mul(g, s) },
  pow_scalar: {
    cpu: (x, s) => x ** s,
    wgsl: 'pow_real(x, s)',
    grad: (T, x, _y, g, s) => T.mul(g, T.mul(T.pow(x, s - 1), s)),
  },
  /** s - x */
  rsub_scalar: { cpu: (x, s) => s - x, wgsl: 's - x', grad: (T, _x, _y, g) => T.neg(g) },
  /** s / x */
  rdiv_scalar: { cpu: (x, s) => s / x, wgsl: 's / x', grad: (T, x, _y, g, s) => T.mul(g, T.div(T.rdiv(-s, x), x)) },
  // The gradient passes where x > s (PyTorch's clamp passes it where x >= s: they differ only at ties).
  max_scalar: {
    cpu: (x, s) => Math.max(x, s),
    wgsl: 'max(x, s)',
    grad: (T, x, _y, g, s) => T.mul(g, step(T, T.sub(x, s))),
  },
  min_scalar: {
    cpu: (x, s) => Math.min(x, s),
    wgsl: 'min(x, s)',
    grad: (T, x, _y, g, s) => T.mul(g, step(T, T.rsub(s, x))),
  },
} satisfies Record<string, UnaryDef>;

// Ties split the gradient in half, as PyTorch's maximum/minimum do.
const tieSplit = (T: ElementwiseOps, winner: Tensor, tie: Tensor, g: Tensor) =>
  T.mul(g, T.add(winner, T.mul(tie, 0.5)));

export const binaryOpTable = {
  add: { cpu: (a, b) => a + b, wgsl: 'a + b', grad: (_T, _a, _b, _y, g) => [g, g] },
  sub: { cpu: (a, b) => a - b, wgsl: 'a - b', grad: (T, _a, _b, _y, g) => [g, T.neg(g)] },
  mul: { cpu: (a, b) => a * b, wgsl: 'a * b', grad: (T, a, b, _y, g) => [T.mul(g, b), T.mul(g, a)] },
  div: { cpu: (a, b) => a / b, wgsl: 'a / b', grad: (T, _a, b, y, g) => [T.div(g, b), T.neg(T.div(T.mul(g, y), b))] },
  // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a (defined for a > 0).
  pow: {
    cpu: Math.pow,
    wgsl: 'pow_real(a, b)',
    grad: (T, a, b, y, g) => [T.mul(g, T.mul(b, T.pow(a, T.sub(b, 1)))), T.mul(g, T.mul(y, T.log(a)))],
  },
  maximum: {
    cpu: Math.max,
    wgsl: 'max(a, b)',
    grad: (T, a, b, _y, g) => [tieSplit(T, T.gt(a, b), T.eq(a, b), g), tieSplit(T, T.lt(a, b), T.eq(a, b), g)],
  },
  minimum: {
    cpu: Math.min,
    wgsl: 'min(a, b)',
    grad: (T, a, b, _y, g) => [tieSplit(T, T.lt(a, b), T.eq(a, b), g), tieSplit(T, T.gt(a, b), T.eq(a, b), g)],
  },
  /** gelu_backward(x, dy) = dy * gelu'(x): GELU's backward kernel (no second derivative). */
  gelu_backward: { cpu: (x, dy) => dy * geluDerivative(x), wgsl: 'b * gelu_derivative(a)', grad: null },
  eq: { cpu: (a, b) => (a === b ? 1 : 0), wgsl: 'select(0.0, 1.0, a == b)', grad: null },
  lt: { cpu: (a, b) => (a < b ? 1 : 0), wgsl: 'select(0.0, 1.0, a < b)', grad: null },
  gt: { cpu: (a, b) => (a > b ? 1 : 0), wgsl: 'select(0.0, 1.0, a > b)', grad: null },
} satisfies Record<string, BinaryDef>;

export type UnaryOp = keyof typeof unaryOpTable;
export type BinaryOp = keyof typeof binaryOpTable;
export const unaryOps = Object.keys(unaryOpTable) as UnaryOp[];
export const binaryOps = Object.keys(binaryOpTable) as BinaryOp[];

/** The ops of each table that have a gradient (what autograd may record). */
export type DifferentiableUnaryOp = {
  [K in UnaryOp]: (typeof unaryOpTable)[K]['grad'] extends null ? never : K;
}[UnaryOp];
export type DifferentiableBinaryOp = {
  [K in BinaryOp]: (typeof binaryOpTable)[K]['grad'] extends null ? never : K;
}[BinaryOp];
