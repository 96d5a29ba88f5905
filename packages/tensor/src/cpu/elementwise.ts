/**
 * Elementwise reference kernels, written from the maths (not from the WGSL). Values are
 * computed in float64 and rounded once on store.
 */
import type { BinaryOp, UnaryOp, View } from '../backend.js';
import { dataOf, stridedIndices } from './storage.js';

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

export const unaryFunctions: Record<UnaryOp, (x: number, s: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  tanh: Math.tanh,
  abs: Math.abs,
  relu: (x) => (x > 0 ? x : 0),
  gelu,
  square: (x) => x * x,
  sign: (x) => Math.sign(x),
  add_scalar: (x, s) => x + s,
  mul_scalar: (x, s) => x * s,
  pow_scalar: (x, s) => Math.pow(x, s),
  rsub_scalar: (x, s) => s - x,
  rdiv_scalar: (x, s) => s / x,
  max_scalar: (x, s) => Math.max(x, s),
  min_scalar: (x, s) => Math.min(x, s),
};

export const binaryFunctions: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: Math.max,
  minimum: Math.min,
  gelu_backward: (x, dy) => dy * geluDerivative(x),
  eq: (a, b) => (a === b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
};

/** out = x elementwise; `out` may be any view (copyInto writes through slices). */
export function copy(x: View, out: View): void {
  const src = dataOf(x);
  const dst = dataOf(out);
  const from = stridedIndices(x);
  const to = stridedIndices(out);
  for (let i = 0; i < from.length; i++) dst[to[i]!] = src[from[i]!]!;
}

export function fill(out: View, value: number): void {
  const dst = dataOf(out);
  let n = 1;
  for (const d of out.shape) n *= d;
  dst.fill(value, out.offset, out.offset + n);
}

export function unary(op: UnaryOp, x: View, out: View, scalar: number): void {
  const f = unaryFunctions[op];
  // The scalar takes the tensor's precision first, as in PyTorch (x + 0.7 adds float32(0.7)).
  const s = x.dtype === 'float32' ? Math.fround(scalar) : scalar;
  const src = dataOf(x);
  const dst = dataOf(out);
  const idx = stridedIndices(x);
  for (let i = 0; i < idx.length; i++) dst[out.offset + i] = f(src[idx[i]!]!, s);
}

export function binary(op: BinaryOp, a: View, b: View, out: View): void {
  const f = binaryFunctions[op];
  const da = dataOf(a);
  const db = dataOf(b);
  const dst = dataOf(out);
  const ia = stridedIndices(a);
  const ib = stridedIndices(b);
  for (let i = 0; i < ia.length; i++) dst[out.offset + i] = f(da[ia[i]!]!, db[ib[i]!]!);
}
