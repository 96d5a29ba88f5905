/** Elementwise ops with NumPy broadcasting. The kernels are rows of one table per backend. */
import type { BinaryOp, Kernels, UnaryOp, View } from '../backend.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import { DTypeError, ShapeError, formatShape } from '../errors.js';
import { type Tensor, assertSameDevice, emptyLike, empty } from '../tensor.js';
import { assertFloat, assertTensor } from './util.js';

/** out = f(x) by `run`, a kernel of x's backend. */
function mapUnary(op: string, x: Tensor, run: (kernels: Kernels, x: View, out: View) => void): Tensor {
  assertFloat(op, x);
  const out = emptyLike(x);
  if (out.size > 0) run(x.device.backend.kernels, x, out);
  return out;
}

/** out = f(a, b) by `run`, with a and b broadcast to their common shape first. */
function mapBinary(
  op: string,
  a: Tensor,
  b: Tensor,
  run: (kernels: Kernels, a: View, b: View, out: View) => void,
): Tensor {
  assertFloat(op, a, b);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = empty(shape, a.dtype, a.device);
  if (out.size === 0) return out;
  const ea = a.expand(shape);
  const eb = b.expand(shape);
  run(a.device.backend.kernels, ea, eb, out);
  ea.dispose();
  eb.dispose();
  return out;
}

export function unaryOp(op: UnaryOp, x: Tensor, scalar = 0): Tensor {
  return mapUnary(op, x, (k, xv, out) => k.unary(op, xv, out, scalar));
}

export function binaryOp(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  return mapBinary(op, a, b, (k, av, bv, out) => k.binary(op, av, bv, out));
}

const scalarForms: Partial<Record<BinaryOp, (x: Tensor, s: number) => Tensor>> = {
  add: (x, s) => unaryOp('add_scalar', x, s),
  sub: (x, s) => unaryOp('add_scalar', x, -s),
  mul: (x, s) => unaryOp('mul_scalar', x, s),
  div: (x, s) => unaryOp('mul_scalar', x, 1 / s),
  pow: (x, s) => unaryOp('pow_scalar', x, s),
  maximum: (x, s) => unaryOp('max_scalar', x, s),
  minimum: (x, s) => unaryOp('min_scalar', x, s),
};

function binaryOrScalar(op: BinaryOp) {
  return (a: Tensor, b: Tensor | number): Tensor => {
    assertTensor(op, 'a (the first operand)', a, typeof a === 'number' ? ' (only the second may be a number)' : '');
    if (typeof b !== 'number') {
      assertTensor(op, 'b (the second operand)', b, ' or a number');
      return binaryOp(op, a, b);
    }
    return scalarForms[op]!(a, b);
  };
}

export const add = binaryOrScalar('add');
export const sub = binaryOrScalar('sub');
export const mul = binaryOrScalar('mul');
/** a / b; a scalar b multiplies by 1/b (one rounding more than a true division). */
export const div = binaryOrScalar('div');
export const pow = binaryOrScalar('pow');
export const maximum = binaryOrScalar('maximum');
export const minimum = binaryOrScalar('minimum');
/** 1.0 where a == b (a < b, a > b), else 0.0. Not differentiable. */
export const eq = (a: Tensor, b: Tensor): Tensor => binaryOp('eq', a, b);
export const lt = (a: Tensor, b: Tensor): Tensor => binaryOp('lt', a, b);
export const gt = (a: Tensor, b: Tensor): Tensor => binaryOp('gt', a, b);
/** dy * gelu'(x): GELU's backward (the backends' geluBackward kernel). */
export const geluBackward = (x: Tensor, dy: Tensor): Tensor =>
  mapBinary('gelu_backward', x, dy, (k, xv, dyv, dx) => k.geluBackward(xv, dyv, dx));

/** s - x */
export const rsub = (s: number, x: Tensor): Tensor => unaryOp('rsub_scalar', x, s);
/** s / x */
export const rdiv = (s: number, x: Tensor): Tensor => unaryOp('rdiv_scalar', x, s);

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unaryOp('rsqrt', x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** GPT-2's GELU (tanh approximation; the backends' gelu kernel). */
export const gelu = (x: Tensor): Tensor => mapUnary('gelu', x, (k, xv, out) => k.gelu(xv, out));
export const square = (x: Tensor): Tensor => unaryOp('square', x);
export const sign = (x: Tensor): Tensor => unaryOp('sign', x);

/**
 * Writes `src` (broadcast to dst's shape) into the view `dst`, in place: e.g. into a slice of
 * a larger tensor. dst's elements must not overlap (no expanded dst).
 */
export function copyInto(dst: Tensor, src: Tensor): void {
  assertSameDevice('copyInto', dst, src);
  if (dst.dtype !== src.dtype) throw new DTypeError(`copyInto: dtypes differ (${dst.dtype} and ${src.dtype})`);
  if (dst.strides.some((s, i) => s === 0 && dst.shape[i]! > 1))
    throw new ShapeError(
      `copyInto: the destination ${formatShape(dst.shape)} is an expanded view (its elements overlap)`,
    );
  // src broadcasts to dst (NumPy's rule, as expand): checked here so the error names copyInto.
  const lead = dst.rank - src.rank;
  if (lead < 0 || src.shape.some((d, i) => d !== 1 && d !== dst.shape[lead + i]))
    throw new ShapeError(
      `copyInto: the source ${formatShape(src.shape)} does not broadcast to the destination ${formatShape(dst.shape)}`,
    );
  if (dst.size === 0) return;
  const e = src.expand(dst.shape);
  dst.device.backend.kernels.copy(e, dst);
  e.dispose();
}

/**
 * Writes `src` converted to dst's dtype into the contiguous view `dst` (same shape), in place:
 * float32 <-> float16/bfloat16 round to nearest even (a loader converting a file in chunks).
 */
export function castInto(dst: Tensor, src: Tensor): void {
  assertSameDevice('castInto', dst, src);
  if (!shapesEqual(dst.shape, src.shape))
    throw new ShapeError(`castInto: shapes differ (${formatShape(dst.shape)} and ${formatShape(src.shape)})`);
  if (!dst.isContiguous())
    throw new ShapeError(`castInto: the destination ${formatShape(dst.shape)} must be contiguous`);
  if (dst.dtype === 'int32' || src.dtype === 'int32')
    throw new DTypeError(`castInto: ${src.dtype} -> ${dst.dtype} is not supported (float dtypes only)`);
  if (dst.size === 0) return;
  if (dst.dtype === src.dtype) dst.device.backend.kernels.copy(src, dst);
  else dst.device.backend.kernels.cast(src, dst);
}
