/**
 * Element types. `float32` holds values, `int32` token ids and indices. `float64` exists only
 * on the CPU reference backend: gradient checks use it as their oracle. `float16` (IEEE
 * binary16) and `bfloat16` (float32's top 16 bits) are storage types for weights: their
 * elements are held as raw 16-bit patterns (a Uint16Array on the CPU) and widened to float32
 * by the kernels that read them (matmul's weight operand, the embedding gather, `astype`).
 */
import { DTypeError, ValueError, describeValue } from './errors.js';

export type DType = 'float32' | 'int32' | 'float64' | 'float16' | 'bfloat16';

/** The 16-bit float storage types. */
export type HalfDType = Extract<DType, 'float16' | 'bfloat16'>;

export type TypedArray = Float32Array | Int32Array | Float64Array | Uint16Array;

/** One row per dtype: its size and the typed array that stores it (raw bits for the 16-bit floats). */
export const dtypeTable = {
  float32: { bytesPerElement: 4, array: Float32Array },
  int32: { bytesPerElement: 4, array: Int32Array },
  float64: { bytesPerElement: 8, array: Float64Array },
  float16: { bytesPerElement: 2, array: Uint16Array },
  bfloat16: { bytesPerElement: 2, array: Uint16Array },
} as const satisfies { [K in DType]: { bytesPerElement: number; array: { new (n: number): TypedArray } } };

export const dtypes = Object.keys(dtypeTable) as DType[];

export const bytesPerElement = Object.fromEntries(dtypes.map((d) => [d, dtypeTable[d].bytesPerElement])) as Record<
  DType,
  number
>;

/**
 * Throws DTypeError unless `dtype` is one of `dtypes` (a string from untyped code or a file
 * could be anything); the message names the op and the value and lists the dtypes.
 */
export function checkDType(dtype: unknown, op: string): asserts dtype is DType {
  if (typeof dtype !== 'string' || !Object.hasOwn(dtypeTable, dtype)) {
    const shown = typeof dtype === 'string' ? `"${dtype}"` : describeValue(dtype);
    throw new DTypeError(`${op}: unknown dtype ${shown}: use ${dtypes.join(', ')}`);
  }
}

export function isHalf(dtype: DType): dtype is HalfDType {
  return dtype === 'float16' || dtype === 'bfloat16';
}

export function typedArrayFor(dtype: DType, size: number): TypedArray {
  return new dtypeTable[dtype].array(size);
}

/** Whether `v` is an int32 value: an integer in [-2^31, 2^31). */
export function isInt32(v: number): boolean {
  return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
}

/** Throws ValueError unless `v` is an int32 value; `what` names it ("element 3", "the value"). */
export function checkInt32(v: number, op: string, what: string): void {
  if (!isInt32(v))
    throw new ValueError(`${op}: ${what} is ${v}, not an integer in int32's range [-2147483648, 2147483647]`);
}

/**
 * Copies (and converts) `data` into a new typed array of `dtype` (16-bit floats: rounded to
 * nearest even). Throws ValueError for int32 when an element is not an integer or does not fit
 * 32 bits (a typed array would wrap it silently); `op` names the caller in the message.
 */
export function toTypedArray(data: ArrayLike<number>, dtype: DType, op = 'tensor'): TypedArray {
  checkDType(dtype, op);
  const out = typedArrayFor(dtype, data.length);
  if (dtype === 'int32') {
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      checkInt32(v, op, `element ${i}`);
      out[i] = v;
    }
  } else if (isHalf(dtype)) {
    narrowToHalf(Float32Array.from(data), dtype, out as Uint16Array);
  } else {
    out.set(data);
  }
  return out;
}

/** The dtype a typed array stores. A Uint16Array is ambiguous (float16 or bfloat16 bits): callers name it. */
export function dtypeOfArray(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint16Array) throw new TypeError('a Uint16Array holds float16 or bfloat16 bits: pass { dtype }');
  return 'float64';
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

// ---- float32 <-> 16-bit conversions, on raw bits (the CPU reference of every half kernel) ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 bits -> bfloat16 bits, rounded to nearest even; NaN stays a (quiet) NaN. */
export function bfloat16Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 bits -> float16 bits, rounded to nearest even, with subnormals, overflow to infinity and NaN. */
export function float16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00; // NaN
  if (abs >= 0x477ff000) return sign | 0x7c00; // rounds to >= 65520: infinity
  if (abs < 0x38800000) {
    // below float16's smallest normal 2^-14: subnormal (or zero)
    if (abs < 0x33000000) return sign; // below half the smallest subnormal 2^-25 (ties to zero handled below)
    const exp = abs >>> 23;
    const mant = (abs & 0x7fffff) | 0x800000;
    const shift = 126 - exp; // value = mant * 2^(exp - 150); subnormal unit 2^-24
    const q = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (q + (rem > half || (rem === half && q & 1) ? 1 : 0));
  }
  const rounded = abs + 0xfff + ((abs >>> 13) & 1);
  return sign | (((rounded - 0x38000000) >>> 13) & 0xffff);
}

/** float16 bits -> float32 bits (exact). */
export function float16ToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 31) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  f32[0] = mant * 2 ** -24; // subnormal: exact in float32
  return (sign | u32[0]!) >>> 0;
}

/** float32 values -> 16-bit bits of `dtype`, into `out` (same length). */
export function narrowToHalf(src: Float32Array, dtype: HalfDType, out: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const convert = dtype === 'bfloat16' ? bfloat16Bits : float16Bits;
  for (let i = 0; i < bits.length; i++) out[i] = convert(bits[i]!);
}

/** 16-bit bits of `dtype` -> float32 values, into `out` (same length). */
export function widenHalf(src: Uint16Array, dtype: HalfDType, out: Float32Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  if (dtype === 'bfloat16') for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  else for (let i = 0; i < src.length; i++) bits[i] = float16ToFloat32Bits(src[i]!);
}

/** One 16-bit pattern of `dtype` as a number. */
export function halfToNumber(h: number, dtype: HalfDType): number {
  u32[0] = dtype === 'bfloat16' ? h << 16 : float16ToFloat32Bits(h);
  return f32[0]!;
}

/** A number rounded to `dtype`'s 16-bit pattern. */
export function numberToHalf(v: number, dtype: HalfDType): number {
  f32[0] = v;
  return dtype === 'bfloat16' ? bfloat16Bits(u32[0]!) : float16Bits(u32[0]!);
}
