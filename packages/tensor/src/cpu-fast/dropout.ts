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
    const keep = mask.keep;
    if (keep && xAt !== null && outAt !== null && mask.p < 1) {
      const n = sizeOf(x.shape);
      if (keep.length !== n) throw new RangeError(`dropout: the mask has ${keep.length} elements, the tensor ${n}`);
      applyKeep(rt.heap.float32(xAt, n), rt.heap.float32(outAt, n), keep, mask.p);
      return;
    }
    const threads = rt.runner?.threads ?? 1;
    const bits = rt.heap.allocate(BITS_BYTES * threads);
    // A host-drawn mask outside the heap is applied by the reference loop.
    if (xAt === null || outAt === null || mask.p >= 1 || bits === null || keep) {
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

/**
 * A host-drawn keep mask (TorchGenerator) applied in the heap: x times float32(1 / (1 - p)) where
 * kept, times 0 where dropped (the reference's bits: 0 * x keeps NaN and the sign of zero). A
 * two-entry table instead of a branch: one element in ten is dropped at random, which a branch
 * predicts badly (about twice the time per step of the book's run).
 */
function applyKeep(x: Float32Array, out: Float32Array, keep: Uint8Array, p: number): void {
  const factor = new Float32Array([0, 1 / (1 - p)]);
  for (let i = 0; i < keep.length; i++) out[i] = x[i]! * factor[keep[i]!]!;
}
