/**
 * Element types. `float32` holds values, `int32` token ids and indices. `float64` exists only
 * on the CPU reference backend: gradient checks use it as their oracle.
 */
export type DType = 'float32' | 'int32' | 'float64';

export type TypedArray = Float32Array | Int32Array | Float64Array;

export const bytesPerElement: Record<DType, number> = { float32: 4, int32: 4, float64: 8 };

export function typedArrayFor(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'int32': return new Int32Array(size);
    case 'float64': return new Float64Array(size);
  }
}

/** Copies (and converts) `data` into a new typed array of `dtype`. */
export function toTypedArray(data: ArrayLike<number>, dtype: DType): TypedArray {
  const out = typedArrayFor(dtype, data.length);
  if (dtype === 'int32') {
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (!Number.isInteger(v)) throw new TypeError(`int32 tensor: element ${i} is ${v}, not an integer`);
      out[i] = v;
    }
  } else {
    out.set(data);
  }
  return out;
}

export function dtypeOfArray(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  return 'float64';
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}
