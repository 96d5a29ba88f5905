/**
 * Elementwise reference kernels: the CPU functions of the op table (elementwise-ops.ts, written
 * from the maths, not from the WGSL) in plain strided loops. Values are computed in float64 and
 * rounded once on store.
 */
import type { BinaryOp, UnaryOp, View } from '../backend.js';
import { binaryOpTable, unaryOpTable } from '../elementwise-ops.js';
import { isHalf, narrowToHalf, numberToHalf } from '../dtype.js';
import { dataOf, gatherElements, stridedIndices } from './storage.js';

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
  dst.fill(isHalf(out.dtype) ? numberToHalf(value, out.dtype) : value, out.offset, out.offset + n);
}

/** out (contiguous) = x converted between float dtypes, through float64 (exact) then rounded once. */
export function cast(x: View, out: View): void {
  const values = gatherElements(x);
  const dst = dataOf(out);
  if (isHalf(out.dtype))
    narrowToHalf(
      Float32Array.from(values),
      out.dtype,
      (dst as Uint16Array).subarray(out.offset, out.offset + values.length),
    );
  else dst.set(values, out.offset);
}

export function unary(op: UnaryOp, x: View, out: View, scalar: number): void {
  const f = unaryOpTable[op].cpu;
  // The scalar takes the tensor's precision first, as in PyTorch (x + 0.7 adds float32(0.7)).
  const s = x.dtype === 'float32' ? Math.fround(scalar) : scalar;
  const src = dataOf(x);
  const dst = dataOf(out);
  const idx = stridedIndices(x);
  for (let i = 0; i < idx.length; i++) dst[out.offset + i] = f(src[idx[i]!]!, s);
}

export function binary(op: BinaryOp, a: View, b: View, out: View): void {
  const f = binaryOpTable[op].cpu;
  const da = dataOf(a);
  const db = dataOf(b);
  const dst = dataOf(out);
  const ia = stridedIndices(a);
  const ib = stridedIndices(b);
  for (let i = 0; i < ia.length; i++) dst[out.offset + i] = f(da[ia[i]!]!, db[ib[i]!]!);
}
