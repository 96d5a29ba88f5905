/**
 * The tensor: a view (shape, strides, offset) of a reference-counted storage on one device.
 * View operations (reshape, permute, slice, expand) make new tensors over the same storage
 * without copying; `contiguous()` copies only when the layout needs it.
 */
import type { BackendStorage, View } from './backend.js';
import { type Device, checkDevice } from './device.js';
import { type DType, type TypedArray, checkDType, dtypeOfArray, dtypeTable, isHalf, widenHalf } from './dtype.js';
import { AllocationError, DTypeError, DeviceError, DisposedError, ShapeError, formatShape } from './errors.js';
import { track, type Disposable } from './memory.js';
import {
  type Shape,
  checkShape,
  contiguousStrides,
  describeShape,
  isContiguousLayout,
  normalizeAxis,
  sizeOf,
} from './shape.js';

/** A backend storage shared by a tensor and its views; freed when the last one is disposed. */
export class SharedStorage {
  private refs = 1;
  constructor(
    readonly device: Device,
    readonly buffer: BackendStorage,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.device.backend.release(this.buffer);
  }
}

export class Tensor implements View, Disposable {
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
  private disposed = false;

  constructor(
    private readonly shared: SharedStorage,
    readonly dtype: DType,
    shape: Shape,
    strides?: readonly number[],
    offset = 0,
  ) {
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    track(this);
  }

  get storage(): BackendStorage {
    if (this.disposed) throw new DisposedError(`tensor of shape ${formatShape(this.shape)} was used after dispose()`);
    return this.shared.buffer;
  }

  get device(): Device {
    return this.shared.device;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.shared.release();
  }

  isContiguous(): boolean {
    return isContiguousLayout(this.shape, this.strides);
  }

  /** A new tensor over the same storage (one more reference). */
  private view(shape: Shape, strides: readonly number[], offset: number): Tensor {
    this.storage; // throws if disposed
    return new Tensor(this.shared.retain(), this.dtype, shape, strides, offset);
  }

  /**
   * Same elements, new shape; one dimension may be -1. Copies only if the layout needs it.
   * Throws ShapeError unless `shape` is an array of integers (>= 0, or one -1) with this size.
   */
  reshape(shape: readonly number[]): Tensor {
    const resolved = resolveReshape(this.shape, shape);
    if (this.isContiguous()) return this.view(resolved, contiguousStrides(resolved), this.offset);
    const copy = this.contiguous();
    const out = copy.view(resolved, contiguousStrides(resolved), copy.offset);
    copy.dispose();
    return out;
  }

  /** Reorders the dimensions: `dims[i]` is the source dimension of result dimension i. */
  permute(dims: readonly number[]): Tensor {
    const rank = this.rank;
    const shape = new Array<number>(dims.length);
    const strides = new Array<number>(dims.length);
    let seen = 0; // bit a: axis a taken (ranks are small; a Set past 31)
    const many = rank > 31 ? new Set<number>() : null;
    let repeated = false;
    for (let i = 0; i < dims.length; i++) {
      const a = normalizeAxis(dims[i]!, rank, 'permute');
      if (many) {
        repeated ||= many.has(a);
        many.add(a);
      } else {
        repeated ||= (seen & (1 << a)) !== 0;
        seen |= 1 << a;
      }
      shape[i] = this.shape[a]!;
      strides[i] = this.strides[a]!;
    }
    if (dims.length !== rank || repeated) {
      throw new ShapeError(
        `permute: [${dims.join(', ')}] is not a permutation of the ${rank} dimensions of ${formatShape(this.shape)}`,
      );
    }
    return this.view(shape, strides, this.offset);
  }

  transpose(dim0 = -2, dim1 = -1): Tensor {
    const a = normalizeAxis(dim0, this.rank, 'transpose');
    const b = normalizeAxis(dim1, this.rank, 'transpose');
    const dims = [...this.shape.keys()];
    [dims[a], dims[b]] = [dims[b]!, dims[a]!];
    return this.permute(dims);
  }

  /** Elements start..end-1 along `axis` (negative indices count from the end, like Python). */
  slice(axis: number, start: number, end?: number): Tensor {
    const a = normalizeAxis(axis, this.rank, 'slice');
    const n = this.shape[a]!;
    const s = start < 0 ? Math.max(0, n + start) : Math.min(start, n);
    const e = end === undefined ? n : end < 0 ? Math.max(0, n + end) : Math.min(end, n);
    if (!Number.isInteger(s) || !Number.isInteger(e))
      throw new ShapeError(`slice: start ${start} and end ${end} must be integers`);
    const shape = [...this.shape];
    shape[a] = Math.max(0, e - s);
    return this.view(shape, this.strides, this.offset + s * this.strides[a]!);
  }

  /**
   * Broadcasts size-1 dimensions (and new leading ones) to `shape` with stride 0. Throws
   * ShapeError unless `shape` is an array of integers >= 0 (no -1) this shape broadcasts to.
   */
  expand(shape: readonly number[]): Tensor {
    checkShape(shape, 'expand');
    if (shape.length < this.rank)
      throw new ShapeError(
        `expand: cannot expand ${formatShape(this.shape)} to fewer dimensions ${formatShape(shape)}`,
      );
    const lead = shape.length - this.rank;
    const strides = shape.map((d, i) => {
      if (i < lead) return 0;
      const own = this.shape[i - lead]!;
      if (own === d) return this.strides[i - lead]!;
      if (own === 1) return 0;
      throw new ShapeError(
        `expand: cannot expand ${formatShape(this.shape)} to ${formatShape(shape)} (dimension ${i}: ${own} is not 1)`,
      );
    });
    return this.view(shape, strides, this.offset);
  }

  /** Adds a dimension of size 1 at `axis`. */
  unsqueeze(axis: number): Tensor {
    const a = normalizeAxis(axis, this.rank + 1, 'unsqueeze');
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape.splice(a, 0, 1);
    strides.splice(a, 0, a < this.rank ? this.strides[a]! * this.shape[a]! : 1);
    return this.view(shape, strides, this.offset);
  }

  /** Removes dimension `axis`, which must have size 1 (a view). Throws ShapeError otherwise. */
  squeeze(axis: number): Tensor {
    const a = normalizeAxis(axis, this.rank, 'squeeze');
    if (this.shape[a] !== 1)
      throw new ShapeError(`squeeze: dimension ${a} of ${formatShape(this.shape)} has size ${this.shape[a]}, not 1`);
    return this.view(
      this.shape.filter((_, i) => i !== a),
      this.strides.filter((_, i) => i !== a),
      this.offset,
    );
  }

  /** A contiguous tensor with these elements: a new reference to this one if already so. */
  contiguous(): Tensor {
    if (this.isContiguous()) return this.view(this.shape, contiguousStrides(this.shape), this.offset);
    const out = emptyLike(this);
    this.device.backend.kernels.copy(this, out);
    return out;
  }

  /** A copy on another device, same dtype. Throws DeviceError when `device` is not a Device. */
  async to(device: Device): Promise<Tensor> {
    checkDevice(device, 'to');
    if (device === this.device) return this.contiguous();
    return fromTypedArray(await this.device.backend.read(this), this.shape, device, this.dtype);
  }

  /**
   * The elements in row-major order. Waits for the device. float16 and bfloat16 come back
   * widened to a Float32Array (exact); `toBits()` gives their raw 16-bit patterns.
   */
  async toArray(): Promise<TypedArray> {
    const data = await this.device.backend.read(this);
    if (!isHalf(this.dtype)) return data;
    const out = new Float32Array(data.length);
    widenHalf(data as Uint16Array, this.dtype, out);
    return out;
  }

  /** The raw stored elements in row-major order (for 16-bit floats, their bit patterns in a Uint16Array). */
  async toBits(): Promise<TypedArray> {
    return this.device.backend.read(this);
  }

  /**
   * This tensor converted to `dtype` (float32 <-> float16/bfloat16 round to nearest even), a new
   * contiguous tensor; a new reference to a contiguous self when the dtype is already `dtype`.
   * Throws DTypeError for int32 <-> float conversions (not needed by any model here) and for
   * an unknown dtype.
   */
  astype(dtype: DType): Tensor {
    checkDType(dtype, 'astype');
    if (dtype === this.dtype) return this.contiguous();
    if (dtype === 'int32' || this.dtype === 'int32')
      throw new DTypeError(`astype: ${this.dtype} -> ${dtype} is not supported (float dtypes only)`);
    const out = emptyLike(this, dtype);
    if (out.size > 0) this.device.backend.kernels.cast(this, out);
    return out;
  }

  /** The single element of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1)
      throw new ShapeError(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, not 1`);
    return (await this.toArray())[0]!;
  }

  /** The elements as nested arrays, like the input of `tensor()`. */
  async toNested(): Promise<unknown> {
    const flat = Array.from(await this.toArray());
    const build = (dim: number, start: number): unknown => {
      if (dim === this.rank) return flat[start];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, start + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}, ${this.device.kind})`;
  }
}

function resolveReshape(from: Shape, to: readonly number[]): number[] {
  // Loops, not filter/reduce/some/map: a training step reshapes a few hundred times.
  const total = sizeOf(from);
  if (!Array.isArray(to))
    throw new ShapeError(`reshape: the shape must be an array of integers (one may be -1), got ${describeShape(to)}`);
  let free = 0;
  let known = 1;
  let invalid = false;
  for (let i = 0; i < to.length; i++) {
    const d = to[i]!;
    if (d === -1) free++;
    else known *= d;
    if (!Number.isSafeInteger(d) || d < -1) invalid = true;
  }
  const bad = free > 1 || invalid || (free === 1 ? known === 0 || total % known !== 0 : known !== total);
  if (bad)
    throw new ShapeError(`reshape: cannot reshape ${formatShape(from)} (${total} elements) to ${describeShape(to)}`);
  const out = new Array<number>(to.length);
  for (let i = 0; i < to.length; i++) out[i] = to[i] === -1 ? total / known : to[i]!;
  return out;
}

/**
 * An uninitialised contiguous tensor on `device`. Throws ShapeError on a shape that is not an
 * array of integers >= 0 (every tensor is allocated here, so every shape is checked here),
 * DTypeError on an unknown dtype, AllocationError when the device cannot hold it.
 */
export function empty(shape: Shape, dtype: DType, device: Device): Tensor {
  checkShape(shape, 'empty');
  checkDType(dtype, 'empty');
  checkDevice(device, 'empty');
  if (!device.backend.supports(dtype))
    throw new DeviceError(`dtype ${dtype} is not supported on the ${device.kind} device`);
  return new Tensor(new SharedStorage(device, allocate(shape, dtype, device)), dtype, shape);
}

/**
 * The one door to a backend's allocate: a size no memory can hold, or one the backend or the
 * runtime refuses (RangeError: "Invalid typed array length", "Array buffer allocation failed"),
 * becomes an AllocationError naming the shape, the dtype and the bytes.
 */
function allocate(shape: Shape, dtype: DType, device: Device): BackendStorage {
  const size = sizeOf(shape);
  const bytes = size * dtypeTable[dtype].bytesPerElement;
  const refuse = (why: string) =>
    new AllocationError(
      `cannot allocate a ${dtype} tensor of shape ${formatShape(shape)} (${bytes} bytes) on the ${device.kind} device: ${why}`,
      bytes,
    );
  try {
    return device.backend.allocate(dtype, size);
  } catch (e) {
    if (e instanceof AllocationError || e instanceof RangeError) throw refuse(e.message);
    throw e;
  }
}

export function emptyLike(t: Tensor, dtype: DType = t.dtype): Tensor {
  return empty(t.shape, dtype, t.device);
}

/**
 * A tensor holding `data` (copied). The dtype follows the array (Float32Array: float32, ...);
 * a Uint16Array holds float16 or bfloat16 bit patterns and needs `dtype` to say which.
 * Throws ShapeError unless `shape` is an array of integers >= 0 whose product is data.length.
 */
export function fromTypedArray(
  data: TypedArray,
  shape: Shape,
  device: Device,
  dtype: DType = dtypeOfArray(data),
): Tensor {
  checkShape(shape, 'tensor');
  checkDType(dtype, 'tensor');
  checkDevice(device, 'tensor');
  if (!(data instanceof dtypeTable[dtype].array))
    throw new DTypeError(`tensor: a ${data.constructor.name} cannot hold ${dtype} elements`);
  if (sizeOf(shape) !== data.length)
    throw new ShapeError(
      `tensor: ${data.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`,
    );
  const t = empty(shape, dtype, device);
  device.backend.upload(t.storage, data);
  return t;
}

/**
 * The tensor's storage as a host typed array (raw bits for 16-bit floats), when its backend
 * keeps it in host memory (the CPU backends), so a loader can read a file straight into it;
 * null on a GPU. Index it from `t.offset`; writing through it changes the tensor.
 */
export function hostData(t: Tensor): TypedArray | null {
  return t.device.backend.hostData?.(t.storage) ?? null;
}

/**
 * Throws unless every tensor is on the first one's device; names the op and both devices (by
 * kind, or by description when the kinds are the same: the reference CPU and the fast CPU are
 * both "cpu").
 */
export function assertSameDevice(op: string, ...tensors: Tensor[]): void {
  const device = tensors[0]?.device;
  for (const t of tensors) {
    if (device && t.device !== device) {
      const [a, b] =
        device.kind === t.device.kind
          ? [device.info.description, t.device.info.description]
          : [device.kind, t.device.kind];
      throw new DeviceError(
        `${op}: tensors are on different devices (${a} and ${b}); move one with await t.to(device)`,
      );
    }
  }
}
