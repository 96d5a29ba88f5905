/**
 * add, sub, mul, div and the scalar add and multiply on the fast CPU backend: WebAssembly
 * (packages/tensor/wasm/arith.ts) split across the threads, bit-identical to the reference,
 * when every operand is a same-shape contiguous float32 view in the heap (no broadcasting).
 * Every other op and view runs the JavaScript loops of elementwise.ts.
 */
import type { BinaryOp, Kernels, UnaryOp } from '../backend.js';
import { sizeOf } from '../shape.js';
import { binary, unary } from './elementwise.js';
import { contiguousHeapAddresses } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 16;
/** The kernel's op codes. */
const BINARY: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3 };
const SCALAR: Partial<Record<UnaryOp, number>> = { add_scalar: 0, mul_scalar: 2 };

export function createBinary(runtime: () => WasmRuntime): Kernels['binary'] {
  return (op, a, b, out) => {
    const code = BINARY[op];
    const at = code === undefined ? null : contiguousHeapAddresses(runtime(), [a, b, out]);
    if (!at) {
      binary(op, a, b, out);
      return;
    }
    const [aAt, bAt, outAt] = at as [number, number, number];
    runSplit(runtime(), 'binaryArith', sizeOf(out.shape), 4, PARALLEL_MIN, (first, n) => [
      code!,
      aAt + 4 * first,
      bAt + 4 * first,
      outAt + 4 * first,
      n,
    ]);
  };
}

export function createUnary(runtime: () => WasmRuntime): Kernels['unary'] {
  return (op, x, out, scalar) => {
    const code = SCALAR[op];
    const at = code === undefined ? null : contiguousHeapAddresses(runtime(), [x, out]);
    if (!at) {
      unary(op, x, out, scalar);
      return;
    }
    const [xAt, outAt] = at as [number, number];
    // The scalar takes float32 precision first, as the reference (and PyTorch) do.
    runSplit(runtime(), 'scalarArith', sizeOf(out.shape), 4, PARALLEL_MIN, (first, n) => [
      code!,
      xAt + 4 * first,
      outAt + 4 * first,
      n,
      Math.fround(scalar),
    ]);
  };
}
