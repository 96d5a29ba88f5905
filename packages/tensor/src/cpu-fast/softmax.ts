/**
 * Softmax and its backward on the fast CPU backend: WebAssembly rows (packages/tensor/wasm/
 * softmax.ts) split across the threads, the causal mask (KV-cache offset included) as the
 * reference's. float64 or tensors outside the heap go to the reference kernels.
 */
import type { Kernels } from '../backend.js';
import { softmax as referenceSoftmax, softmaxBackward as referenceSoftmaxBackward } from '../cpu/softmax.js';
import { heapAddresses, rowsFor } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

/** Elements below which one thread does a kernel call alone. */
const PARALLEL_MIN = 1 << 14;

export function createSoftmax(runtime: () => WasmRuntime): Kernels['softmax'] {
  return (x, out, rows, n, causal) => {
    const rt = runtime();
    const at = heapAddresses(rt, [x, out]);
    if (!at) {
      referenceSoftmax(x, out, rows, n, causal);
      return;
    }
    const [xAt, outAt] = at as [number, number];
    runSplit(rt, 'softmaxRows', rows, 1, rowsFor(PARALLEL_MIN, n), (first, count) => [
      xAt,
      outAt,
      first,
      count,
      n,
      causal?.tq ?? 0,
      causal?.tk ?? 0,
    ]);
  };
}

export function createSoftmaxBackward(runtime: () => WasmRuntime): Kernels['softmaxBackward'] {
  return (y, dy, dx, rows, n) => {
    const rt = runtime();
    const at = heapAddresses(rt, [y, dy, dx]);
    if (!at) {
      referenceSoftmaxBackward(y, dy, dx, rows, n);
      return;
    }
    const [yAt, dyAt, dxAt] = at as [number, number, number];
    runSplit(rt, 'softmaxBackwardRows', rows, 1, rowsFor(PARALLEL_MIN, n), (first, count) => [
      yAt,
      dyAt,
      dxAt,
      first,
      count,
      n,
    ]);
  };
}
