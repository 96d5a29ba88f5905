/** Creating tensors: from data, constants, ranges and seeded random numbers. */
import { getDefaultDevice } from '../defaults.js';
import type { Device } from '../device.js';
import { type DType, type TypedArray, checkDType, checkInt32, dtypeOfArray, isHalf, toTypedArray } from '../dtype.js';
import { AllocationError, DTypeError, ShapeError, ValueError } from '../errors.js';
import { type Generator, defaultGenerator } from '../random.js';
import { type Shape, checkShape, sizeOf } from '../shape.js';
import { type Tensor, empty, fromTypedArray } from '../tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
}

export interface RandomOptions {
  device?: Device;
  /** Defaults to the global generator (see manualSeed). */
  generator?: Generator;
}

export type NestedArray = number | readonly NestedArray[];

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as NestedArray;
  }
  return shape;
}

/**
 * A tensor from a number, nested arrays or a typed array (with `shape`, else 1-D). Numbers
 * become `dtype` (float16/bfloat16: rounded to nearest even); a Uint16Array is taken as the
 * raw bits of `dtype` ('float16' or 'bfloat16', which it must name). Throws ShapeError on a
 * bad or ragged shape, ValueError on int32 data that is not an integer or does not fit 32 bits.
 */
export function tensor(data: NestedArray | TypedArray, options: CreateOptions & { shape?: Shape } = {}): Tensor {
  const device = options.device ?? getDefaultDevice();
  if (options.dtype !== undefined) checkDType(options.dtype, 'tensor');
  if (data instanceof Uint16Array) {
    if (!options.dtype || !isHalf(options.dtype))
      throw new DTypeError(
        `tensor: a Uint16Array holds float16 or bfloat16 bits: pass { dtype: 'float16' } or { dtype: 'bfloat16' }`,
      );
    return fromTypedArray(data, options.shape ?? [data.length], device, options.dtype);
  }
  if (ArrayBuffer.isView(data)) {
    const typed = data as TypedArray;
    const dtype = options.dtype ?? dtypeOfArray(typed);
    const values = dtype === dtypeOfArray(typed) ? typed : toTypedArray(typed, dtype);
    return fromTypedArray(values, options.shape ?? [typed.length], device, dtype);
  }
  const shape = inferShape(data as NestedArray);
  const flat =
    shape.length === 0 ? [data as number] : ((data as readonly NestedArray[]).flat(Infinity as 1) as number[]);
  if (flat.length !== sizeOf(shape) || flat.some((v) => typeof v !== 'number')) {
    throw new ShapeError(
      `tensor: nested arrays are ragged or hold non-numbers (expected ${sizeOf(shape)} numbers for shape [${shape.join(', ')}])`,
    );
  }
  const values = toTypedArray(flat, options.dtype ?? 'float32');
  return fromTypedArray(values, options.shape ?? shape, device, options.dtype ?? 'float32');
}

/** Throws ValueError unless `v` is a finite number; `what` names it in the message. */
function checkFinite(op: string, what: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ValueError(`${op}: ${what} must be a finite number, got ${String(v)}`);
}

/**
 * A tensor of `shape` with every element `value` (float32 unless `dtype`). Throws ShapeError
 * on a bad shape, ValueError when `value` is not a number or, for int32, not an integer that
 * fits 32 bits.
 */
export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  return filled('full', shape, value, options);
}

/** full under the name the caller used (zeros, ones), so its errors name that. */
function filled(op: string, shape: Shape, value: number, options: CreateOptions): Tensor {
  checkShape(shape, op);
  if (typeof value !== 'number') throw new ValueError(`${op}: the value must be a number, got ${String(value)}`);
  if (options.dtype !== undefined) checkDType(options.dtype, op);
  if (options.dtype === 'int32') checkInt32(value, op, 'the value');
  const t = empty(shape, options.dtype ?? 'float32', options.device ?? getDefaultDevice());
  if (t.size > 0) t.device.backend.kernels.fill(t, value);
  return t;
}

/** A tensor of `shape` filled with 0 (float32 unless `dtype`); errors as full's, named zeros. */
export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return filled('zeros', shape, 0, options);
}

/** A tensor of `shape` filled with 1 (float32 unless `dtype`); errors as full's, named ones. */
export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return filled('ones', shape, 1, options);
}

export function zerosLike(t: Tensor): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device });
}

/**
 * start, start + step, ... below end (like torch.arange): int32 when start and step are
 * integers, else float32, unless `dtype`. Throws ValueError unless start, end and step are
 * finite and step is not 0 (or when int32 values pass 2^31), AllocationError when the values
 * do not fit in memory.
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  checkFinite('arange', 'start', from);
  checkFinite('arange', 'end', to);
  checkFinite('arange', 'step', step);
  if (step === 0) throw new ValueError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((to - from) / step));
  let values: Float64Array;
  try {
    values = new Float64Array(n);
  } catch (e) {
    throw new AllocationError(`arange: cannot hold ${n} values: ${(e as Error).message}`, 8 * n);
  }
  for (let i = 0; i < n; i++) values[i] = from + i * step;
  const dtype = options.dtype ?? (Number.isInteger(from) && Number.isInteger(step) ? 'int32' : 'float32');
  return fromTypedArray(toTypedArray(values, dtype, 'arange'), [n], options.device ?? getDefaultDevice(), dtype);
}

function floatsFrom(values: Float64Array, shape: Shape, device: Device | undefined): Tensor {
  return fromTypedArray(Float32Array.from(values), shape, device ?? getDefaultDevice());
}

/**
 * Uniform in [low, high), float32. The same seed gives the same values on every device: drawn by
 * the device's `uniform` kernel where it has one (the CPU backends), else on the host and
 * uploaded. Takes one stream of the generator either way. Throws ShapeError on a bad shape,
 * ValueError unless low <= high are finite.
 */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape(shape, 'rand');
  const g = options.generator ?? defaultGenerator();
  const [low, high] = [options.low ?? 0, options.high ?? 1];
  checkFinite('rand', 'low', low);
  checkFinite('rand', 'high', high);
  if (low > high) throw new ValueError(`rand: low ${low} is above high ${high}`);
  const device = options.device ?? getDefaultDevice();
  const kernel = device.backend.kernels.uniform;
  if (!kernel) return floatsFrom(g.uniform(sizeOf(shape), low, high), shape, device);
  const t = empty(shape, 'float32', device);
  const stream = g.takeStream();
  if (t.size > 0) kernel.call(device.backend.kernels, t, { key: g.key, stream, low, high });
  return t;
}

/**
 * Normal with `mean` and `std`. The same seed gives the same values on every device. Throws
 * ShapeError on a bad shape, ValueError unless mean is finite and std finite and >= 0.
 */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape(shape, 'randn');
  checkFinite('randn', 'mean', options.mean ?? 0);
  checkFinite('randn', 'std', options.std ?? 1);
  if ((options.std ?? 1) < 0) throw new ValueError(`randn: std must be >= 0, got ${options.std}`);
  const g = options.generator ?? defaultGenerator();
  return floatsFrom(g.normal(sizeOf(shape), options.mean ?? 0, options.std ?? 1), shape, options.device);
}

/**
 * Integers in [low, high), int32. Throws ShapeError on a bad shape, ValueError unless low <
 * high are integers within int32 (-2^31 <= low, high <= 2^31).
 */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape(shape, 'randint');
  const g = options.generator ?? defaultGenerator();
  return fromTypedArray(g.integers(sizeOf(shape), low, high), shape, options.device ?? getDefaultDevice());
}
