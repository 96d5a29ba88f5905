/**
 * Dropout in the WebAssembly heap (packages/tensor/wasm/dropout.ts): the shared Threefry mask
 * (dropout-mask.ts), four counters per SIMD vector, split across the threads. Tensors outside the heap, and
 * p = 1, go to the reference kernel.
 */
import type { DropoutMask, View } from '../backend.js';
import { dropout as referenceDropout } from '../cpu/dropout.js';
import { maskConstants } from '../dropout-mask.js';
import { sizeOf } from '../shape.js';
import { heapAddress } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 15;
/** Scratch per thread for one vector of eight mask words. */
const BITS_BYTES = 32;

export function createDropout(runtime: () => WasmRuntime): (x: View, out: View, mask: DropoutMask) => void {
  return (x, out, mask) => {
    const rt = runtime();
    const xAt = x.dtype === 'float32' ? heapAddress(rt, x) : null;
    const outAt = out.dtype === 'float32' ? heapAddress(rt, out) : null;
    const threads = rt.runner?.threads ?? 1;
    const bits = rt.heap.allocate(BITS_BYTES * threads);
    // A host-drawn mask (TorchGenerator) is applied by the reference loop (dataOf reads the heap).
    if (xAt === null || outAt === null || mask.p >= 1 || bits === null || mask.keep) {
      if (bits !== null) rt.heap.release(bits, BITS_BYTES * threads);
      referenceDropout(x, out, mask);
      return;
    }
    try {
      const { key, stream } = mask;
      const { threshold, scale } = maskConstants(mask.p);
      runSplit(rt, 'dropout', sizeOf(x.shape), 8, PARALLEL_MIN, (start, count, part) => [
        xAt,
        outAt,
        start,
        count,
        threshold,
        scale,
        key[0],
        key[1],
        stream,
        bits + BITS_BYTES * part,
      ]);
    } finally {
      rt.heap.release(bits, BITS_BYTES * threads);
    }
  };
}
