/**
 * Uniform fill in the WebAssembly heap (packages/tensor/wasm/random.ts): the Threefry words of
 * dropout's masks, four counters per SIMD vector, mapped to [low, high) as random.ts's
 * fillUniform does, split across the threads. A model's random initialisation is mostly this
 * (every linear weight of the book's model): 163 M numbers in JavaScript took seconds.
 * Tensors outside the heap go to the reference kernel.
 */
import type { UniformDraw, View } from '../backend.js';
import { uniform as referenceUniform } from '../cpu/random.js';
import { sizeOf } from '../shape.js';
import { heapAddress } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 16;
/** Scratch per thread for one vector of eight words. */
const BITS_BYTES = 32;

export function createUniform(runtime: () => WasmRuntime): (out: View, draw: UniformDraw) => void {
  return (out, draw) => {
    const rt = runtime();
    const at = out.dtype === 'float32' ? heapAddress(rt, out) : null;
    const threads = rt.runner?.threads ?? 1;
    const bits = at === null ? null : rt.heap.allocate(BITS_BYTES * threads);
    if (at === null || bits === null) {
      referenceUniform(out, draw);
      return;
    }
    try {
      const { key, stream, low, high } = draw;
      // Parts of a multiple of 8 elements: every part starts on an even element (a whole counter).
      runSplit(rt, 'uniformFill', sizeOf(out.shape), 8, PARALLEL_MIN, (start, count, part) => [
        at,
        start,
        count,
        low,
        high,
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
