/**
 * Dropout in the WebAssembly heap (packages/tensor/wasm/dropout.ts): the reference's Threefry
 * mask, four counters per SIMD vector, split across the threads. Tensors outside the heap, and
 * p = 1, go to the reference kernel.
 */
import type { DropoutMask, View } from '../backend.js';
import { dropThreshold, dropout as referenceDropout } from '../cpu/dropout.js';
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
    if (xAt === null || outAt === null || mask.p >= 1 || bits === null) {
      if (bits !== null) rt.heap.release(bits, BITS_BYTES * threads);
      referenceDropout(x, out, mask);
      return;
    }
    try {
      const { p, key, stream } = mask;
      runSplit(rt, 'dropout', sizeOf(x.shape), 8, PARALLEL_MIN, (start, count, part) =>
        [xAt, outAt, start, count, dropThreshold(p), 1 / (1 - p), key[0], key[1], stream, bits + BITS_BYTES * part]);
    } finally {
      rt.heap.release(bits, BITS_BYTES * threads);
    }
  };
}
