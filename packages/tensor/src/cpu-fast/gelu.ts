/**
 * GELU and its backward in the WebAssembly heap (packages/tensor/wasm/gelu.ts), split across
 * the threads: the two elementwise ops whose tanh dominates an MLP block's non-matmul time.
 * They take over from the JavaScript loops when every operand is a contiguous float32 view in
 * the heap with the same shape (no broadcasting); anything else runs the JavaScript loops.
 * Unlike those loops they round in float32 (a few ulp from the reference: tests bound it).
 */
import type { BinaryOp, UnaryOp, View } from '../backend.js';
import { isContiguousLayout, sizeOf } from '../shape.js';
import { binary, unary } from './elementwise.js';
import { heapAddress } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 14;

/** Heap addresses of same-shape contiguous float32 views, or null if any is not one. */
function addresses(runtime: WasmRuntime, views: View[]): number[] | null {
  const shape = views[0]!.shape;
  const out: number[] = [];
  for (const v of views) {
    if (v.dtype !== 'float32' || v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) return null;
    if (!isContiguousLayout(v.shape, v.strides)) return null;
    const at = heapAddress(runtime, v);
    if (at === null) return null;
    out.push(at);
  }
  return out;
}

export function createUnary(runtime: () => WasmRuntime): typeof unary {
  return (op: UnaryOp, x: View, out: View, scalar: number) => {
    const at = op === 'gelu' ? addresses(runtime(), [x, out]) : null;
    if (!at) { unary(op, x, out, scalar); return; }
    const [xAt, outAt] = at as [number, number];
    runSplit(runtime(), 'gelu', sizeOf(x.shape), 4, PARALLEL_MIN, (start, count) => [xAt + 4 * start, outAt + 4 * start, count]);
  };
}

export function createBinary(runtime: () => WasmRuntime): typeof binary {
  return (op: BinaryOp, a: View, b: View, out: View) => {
    const at = op === 'gelu_backward' ? addresses(runtime(), [a, b, out]) : null;
    if (!at) { binary(op, a, b, out); return; }
    const [xAt, dyAt, dxAt] = at as [number, number, number];
    runSplit(runtime(), 'geluBackward', sizeOf(a.shape), 4, PARALLEL_MIN, (start, count) => [xAt + 4 * start, dyAt + 4 * start, dxAt + 4 * start, count]);
  };
}
