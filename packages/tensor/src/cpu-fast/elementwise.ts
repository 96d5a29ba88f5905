/**
 * Elementwise kernels for the fast CPU backend: the same maths as the reference (the op
 * table's CPU functions), without the reference's per-element index arrays. Dimensions are coalesced, then
 * the innermost dimension runs as a strided loop under an odometer over the outer ones.
 */
import type { BinaryOp, UnaryOp, View } from '../backend.js';
import { binaryOpTable, unaryOpTable } from '../elementwise-ops.js';
import { dataOf } from '../cpu/storage.js';
import { coalesce } from '../shape.js';

/** Calls `run(offsets, count, innerStrides)` for every innermost run of the coalesced views. */
function eachRun(views: readonly View[], run: (offsets: number[], count: number, inner: number[]) => void): void {
  const shape = views[0]!.shape;
  if (shape.some((d) => d === 0)) return;
  const { shape: dims, strides } = coalesce(
    shape,
    views.map((v) => v.strides),
  );
  const rank = dims.length;
  const count = dims[rank - 1]!;
  const inner = strides.map((s) => s[rank - 1]!);
  const offsets = views.map((v) => v.offset);
  const counter = new Array<number>(rank - 1).fill(0);
  for (;;) {
    run(offsets, count, inner);
    let d = rank - 2;
    for (; d >= 0; d--) {
      counter[d]!++;
      strides.forEach((s, k) => {
        offsets[k]! += s[d]!;
      });
      if (counter[d]! < dims[d]!) break;
      strides.forEach((s, k) => {
        offsets[k]! -= s[d]! * dims[d]!;
      });
      counter[d] = 0;
    }
    if (d < 0) return;
  }
}

export function copy(x: View, out: View): void {
  const src = dataOf(x);
  const dst = dataOf(out);
  eachRun([out, x], ([o, i], n, [so, si]) => {
    if (so === 1 && si === 1) dst.set(src.subarray(i!, i! + n), o!);
    else for (let j = 0; j < n; j++) dst[o! + j * so!] = src[i! + j * si!]!;
  });
}

export function unary(op: UnaryOp, x: View, out: View, scalar: number): void {
  const f = unaryOpTable[op].cpu;
  const s = x.dtype === 'float32' ? Math.fround(scalar) : scalar;
  const src = dataOf(x);
  const dst = dataOf(out);
  eachRun([out, x], ([o, i], n, [so, si]) => {
    for (let j = 0; j < n; j++) dst[o! + j * so!] = f(src[i! + j * si!]!, s);
  });
}

export function binary(op: BinaryOp, a: View, b: View, out: View): void {
  const f = binaryOpTable[op].cpu;
  const da = dataOf(a);
  const db = dataOf(b);
  const dst = dataOf(out);
  eachRun([out, a, b], ([o, i, k], n, [so, sa, sb]) => {
    for (let j = 0; j < n; j++) dst[o! + j * so!] = f(da[i! + j * sa!]!, db[k! + j * sb!]!);
  });
}
