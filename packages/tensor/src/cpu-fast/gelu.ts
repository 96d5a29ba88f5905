/**
 * The fast CPU backend's gelu and geluBackward kernel entries: WebAssembly (packages/tensor/
 * wasm/gelu.ts) split across the threads, for the two elementwise ops whose tanh dominates an
 * MLP block's non-matmul time. When every operand is a contiguous float32 view in the heap
 * with the same shape (no broadcasting); anything else runs the op table's JavaScript loops.
 * Unlike those loops they round in float32 (a few ulp from the reference: tests bound it).
 */
import type { Kernels } from '../backend.js';
import { sizeOf } from '../shape.js';
import { binary, unary } from './elementwise.js';
import { contiguousHeapAddresses } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 14;

export function createGelu(runtime: () => WasmRuntime): Kernels['gelu'] {
  return (x, out) => {
    const at = contiguousHeapAddresses(runtime(), [x, out]);
    if (!at) {
      unary('gelu', x, out, 0);
      return;
    }
    const [xAt, outAt] = at as [number, number];
    runSplit(runtime(), 'gelu', sizeOf(x.shape), 4, PARALLEL_MIN, (start, count) => [
      xAt + 4 * start,
      outAt + 4 * start,
      count,
    ]);
  };
}

export function createGeluBackward(runtime: () => WasmRuntime): Kernels['geluBackward'] {
  return (x, dy, dx) => {
    const at = contiguousHeapAddresses(runtime(), [x, dy, dx]);
    if (!at) {
      binary('gelu_backward', x, dy, dx);
      return;
    }
    const [xAt, dyAt, dxAt] = at as [number, number, number];
    runSplit(runtime(), 'geluBackward', sizeOf(x.shape), 4, PARALLEL_MIN, (start, count) => [
      xAt + 4 * start,
      dyAt + 4 * start,
      dxAt + 4 * start,
      count,
    ]);
  };
}
