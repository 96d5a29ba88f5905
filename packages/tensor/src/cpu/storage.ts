import type { BackendStorage, View } from '../backend.js';
import { type TypedArray, isHalf, widenHalf } from '../dtype.js';

export class CpuStorage implements BackendStorage {
  constructor(readonly data: TypedArray) {}
  get byteLength(): number {
    return this.data.byteLength;
  }
}

export function dataOf(view: View): TypedArray {
  return (view.storage as CpuStorage).data;
}

/** Storage index of every element of `view`, in row-major order of its shape. */
export function stridedIndices(view: View): Int32Array | Float64Array {
  const { shape, strides, offset } = view;
  let n = 1;
  for (const d of shape) n *= d;
  const out = n < 2 ** 31 ? new Int32Array(n) : new Float64Array(n);
  const rank = shape.length;
  const counter = new Array<number>(rank).fill(0);
  let index = offset;
  for (let i = 0; i < n; i++) {
    out[i] = index;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      index += strides[d]!;
      if (counter[d]! < shape[d]!) break;
      index -= counter[d]! * strides[d]!;
      counter[d] = 0;
    }
  }
  return out;
}

/** The view's elements in row-major order, as a plain copy (float64 for float inputs). */
export function gatherElements(view: View): Float64Array | Int32Array {
  const data = valuesOf(view);
  const idx = stridedIndices(view);
  const out = view.dtype === 'int32' ? new Int32Array(idx.length) : new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = data[idx[i]!]!;
  return out;
}

/**
 * The view's storage as numbers: the typed array itself, or for float16/bfloat16 its
 * elements widened to a new Float32Array (whole storage, same indices). For reference kernels.
 */
export function valuesOf(view: View): Exclude<TypedArray, Uint16Array> {
  const data = dataOf(view);
  if (!isHalf(view.dtype)) return data as Exclude<TypedArray, Uint16Array>;
  const out = new Float32Array(data.length);
  widenHalf(data as Uint16Array, view.dtype, out);
  return out;
}
