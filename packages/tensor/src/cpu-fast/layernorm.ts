/**
 * Layer norm and its backward on the fast CPU backend: WebAssembly rows (packages/tensor/wasm/
 * layernorm.ts) split across the threads. The backward's dweight and dbias are sums over all
 * rows: each thread adds its rows into its own partials in a scratch block, summed here
 * (threads x C adds). C not a multiple of 4, float64, or tensors outside the heap go to the
 * reference kernels.
 */
import type { Kernels } from '../backend.js';
import { layerNorm as referenceLayerNorm, layerNormBackward as referenceBackward } from '../cpu/layernorm.js';
import { dataOf } from '../cpu/storage.js';
import { heapAddresses, rowsFor } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 14;

export function createLayerNorm(runtime: () => WasmRuntime): Kernels['layerNorm'] {
  return (args) => {
    const { x, weight, bias, out, mean, rstd, N, C, eps } = args;
    const rt = runtime();
    const at = C % 4 === 0 ? heapAddresses(rt, [x, weight, bias, out, mean, rstd]) : null;
    if (!at) {
      referenceLayerNorm(args);
      return;
    }
    runSplit(rt, 'layerNormRows', N, 1, rowsFor(PARALLEL_MIN, C), (first, count) => [...at, first, count, C, eps]);
  };
}

export function createLayerNormBackward(runtime: () => WasmRuntime): Kernels['layerNormBackward'] {
  return (args) => {
    const { dy, x, weight, mean, rstd, dx, dweight, dbias, N, C } = args;
    const rt = runtime();
    const at = C % 4 === 0 ? heapAddresses(rt, [dy, x, weight, mean, rstd, dx]) : null;
    const threads = rt.runner?.threads ?? 1;
    const partBytes = 8 * C; // dweight then dbias, float32
    const scratch = at ? rt.heap.allocate(partBytes * threads) : null;
    if (!at || scratch === null) {
      referenceBackward(args);
      return;
    }
    try {
      const partials = rt.heap.float32(scratch, 2 * C * threads);
      partials.fill(0);
      let parts = 0;
      runSplit(rt, 'layerNormBackwardRows', N, 1, rowsFor(PARALLEL_MIN, C), (first, count, part) => {
        parts = part + 1;
        const own = scratch + partBytes * part;
        return [...at, own, own + 4 * C, first, count, C];
      });
      const dw = dataOf(dweight),
        db = dataOf(dbias);
      for (let c = 0; c < C; c++) {
        let w = 0,
          b = 0;
        for (let p = 0; p < parts; p++) {
          w += partials[2 * C * p + c]!;
          b += partials[2 * C * p + C + c]!;
        }
        dw[dweight.offset + c] = w;
        db[dbias.offset + c] = b;
      }
    } finally {
      rt.heap.release(scratch, partBytes * threads);
    }
  };
}
