import type { Tensor } from '../tensor.js';
import { assertSameDevice } from '../tensor.js';
import { DTypeError, ShapeError, ValueError, describeValue, formatShape } from '../errors.js';
import { type DType, isHalf } from '../dtype.js';

/** Whether `v` is a tensor (duck-typed, not instanceof: a second copy of the package makes tensors too). */
function isTensor(v: unknown): v is Tensor {
  return (
    typeof v === 'object' && v !== null && typeof (v as Tensor).dtype === 'string' && 'shape' in v && 'storage' in v
  );
}

/**
 * Throws ValueError unless `v` is a tensor: untyped code passes undefined, null or a number, which
 * would otherwise fail inside as "reading 'dtype'". `what` names the argument ("a", "weight").
 */
export function assertTensor(op: string, what: string, v: unknown, hint = ''): asserts v is Tensor {
  if (!isTensor(v)) throw new ValueError(`${op}: ${what} must be a tensor${hint}, got ${describeValue(v)}`);
}

/**
 * Throws unless the tensors are float tensors of one dtype that `op` computes in (float32 or
 * float64), on one device. float16/bfloat16 tensors are weight storage: only matmul's weight
 * operand and the embedding table read them (assertWeight); everything else says to cast.
 */
export function assertFloat(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors)
    if (!isTensor(t)) throw new ValueError(`${op}: an argument that must be a tensor is ${describeValue(t)}`);
  for (const t of tensors) {
    if (t.dtype === 'int32')
      throw new DTypeError(`${op}: expected a float tensor, got int32 of shape ${formatShape(t.shape)}`);
    if (isHalf(t.dtype)) {
      throw new DTypeError(
        `${op}: ${t.dtype} tensors (shape ${formatShape(t.shape)}) hold weights only; convert with astype('float32') first`,
      );
    }
  }
  const dtype = tensors[0]?.dtype;
  for (const t of tensors) {
    if (t.dtype !== dtype)
      throw new DTypeError(`${op}: dtypes differ (${dtype} and ${t.dtype}); convert one with astype()`);
  }
  assertSameDevice(op, ...tensors);
}

export function assertDType(op: string, what: string, t: Tensor, dtype: DType): void {
  if (t.dtype !== dtype)
    throw new DTypeError(`${op}: ${what} must be ${dtype}, got ${t.dtype} of shape ${formatShape(t.shape)}`);
}

export function assertShape(op: string, what: string, t: Tensor, shape: readonly number[]): void {
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${what} must have shape ${formatShape(shape)}, got ${formatShape(t.shape)}`);
  }
}

export function assertRankAtLeast(op: string, what: string, t: Tensor, rank: number): void {
  if (t.rank < rank)
    throw new ShapeError(`${op}: ${what} must have at least ${rank} dimension(s), got shape ${formatShape(t.shape)}`);
}

/** Runs `fn` on contiguous versions of `tensors` and frees any copies afterwards. */
export function withContiguous<R>(tensors: Tensor[], fn: (...cs: Tensor[]) => R): R {
  const cs = tensors.map((t) => t.contiguous());
  try {
    return fn(...cs);
  } finally {
    for (const c of cs) c.dispose();
  }
}

/**
 * For ops that read a 16-bit weight (matmul's b, the embedding table): `weight` may be
 * float16/bfloat16 beside float32 `others`, and the result is float32; otherwise as assertFloat.
 */
export function assertWeight(op: string, weight: Tensor, ...others: Tensor[]): DType {
  assertTensor(op, 'the weight', weight);
  if (!isHalf(weight.dtype)) {
    assertFloat(op, ...others, weight);
    return weight.dtype;
  }
  assertFloat(op, ...others);
  for (const t of others) {
    if (t.dtype !== 'float32')
      throw new DTypeError(
        `${op}: a ${weight.dtype} weight needs float32 inputs, got ${t.dtype} of shape ${formatShape(t.shape)}`,
      );
  }
  assertSameDevice(op, weight, ...others);
  return 'float32';
}
