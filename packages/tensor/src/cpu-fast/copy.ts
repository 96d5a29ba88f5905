/**
 * Strided copies on the fast CPU backend (`contiguous()` of permuted heads, copyInto): float32
 * views in the heap whose coalesced shape has at most four dimensions run as WebAssembly
 * (packages/tensor/wasm/copy.ts), split across the threads along the first dimension longer
 * than 1; anything else (int32, more dimensions) runs the JavaScript loops of elementwise.ts.
 */
import type { Kernels } from '../backend.js';
import { coalesce, sizeOf } from '../shape.js';
import { copy as copyLoops } from './elementwise.js';
import { heapAddresses } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 16;
const RANK = 4;

export function createCopy(runtime: () => WasmRuntime): Kernels['copy'] {
  return (x, out) => {
    const rt = runtime();
    const size = sizeOf(out.shape);
    const at = size > 0 ? heapAddresses(rt, [x, out]) : null;
    const {
      shape,
      strides: [dst, src],
    } = coalesce(out.shape, [out.strides, x.strides]);
    if (!at || shape.length > RANK) {
      copyLoops(x, out);
      return;
    }
    const pad = <T>(a: readonly number[], fill: T) => [...new Array<T>(RANK - a.length).fill(fill), ...a] as number[];
    const n = pad(shape, 1),
      s = pad(src!, 0),
      d = pad(dst!, 0);
    const axis = Math.max(
      0,
      n.findIndex((e) => e > 1),
    );
    const [xAt, outAt] = at as [number, number];
    runSplit(rt, 'copyStrided', n[axis]!, 1, size >= PARALLEL_MIN ? 1 : Infinity, (first, count) => {
      const dims = n.map((e, k) => (k === axis ? count : e));
      return [xAt + 4 * first * s[axis]!, outAt + 4 * first * d[axis]!, ...dims, ...s, ...d];
    });
  };
}
