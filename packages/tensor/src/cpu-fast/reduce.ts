/**
 * Sum and mean over the middle axis of (outer, R, inner) on the fast CPU backend: WebAssembly
 * (packages/tensor/wasm/reduce.ts) in float64, split across the threads over the outer axis when
 * it has a part for each, else over the inner axis (the bias gradient: outer 1, R = B T, inner C).
 * max, argmax, float64 and tensors outside the heap go to the reference kernel.
 */
import type { Kernels } from '../backend.js';
import { reduce as referenceReduce } from '../cpu/reduce.js';
import { heapAddresses } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 15;

export function createReduce(runtime: () => WasmRuntime): Kernels['reduce'] {
  return (op, x, outer, R, inner, out) => {
    const rt = runtime();
    const at = op === 'sum' || op === 'mean' ? heapAddresses(rt, [x, out]) : null;
    if (!at || R === 0) {
      referenceReduce(op, x, outer, R, inner, out);
      return;
    }
    const [xAt, outAt] = at as [number, number];
    const divisor = op === 'mean' ? R : 1;
    const parallel = outer * R * inner >= PARALLEL_MIN ? 1 : Infinity;
    const threads = rt.runner?.threads ?? 1;
    if (inner === 1 || outer >= threads) {
      runSplit(rt, 'sumMiddle', outer, 1, parallel, (first, count) => [
        xAt + 4 * first * R * inner,
        outAt + 4 * first * inner,
        count,
        R,
        inner,
        0,
        inner,
        divisor,
      ]);
    } else {
      runSplit(rt, 'sumMiddle', inner, 4, parallel, (first, count) => [
        xAt,
        outAt,
        outer,
        R,
        inner,
        first,
        count,
        divisor,
      ]);
    }
  };
}
