/**
 * Embedding gather and its backward's scatter-add on the fast CPU backend: the ids (int32,
 * outside the heap) are checked (the reference's RangeError) and copied into a scratch block;
 * WebAssembly (packages/tensor/wasm/embedding.ts) then copies rows (split by rows) or adds them
 * (split by columns, so repeated ids never meet across threads). Tensors outside the heap go to
 * the reference kernels.
 */
import type { Kernels, View } from '../backend.js';
import { gather as referenceGather, scatterAdd as referenceScatterAdd, tokenId } from '../cpu/embedding.js';
import { heapAddresses, rowsFor } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 15;

/** Runs `fn` with the checked ids in a heap block; false (nothing run) when the heap has no room. */
function withIds(rt: WasmRuntime, ids: View, N: number, V: number, fn: (at: number) => void): boolean {
  const bytes = 4 * Math.max(N, 1);
  const at = rt.heap.allocate(bytes);
  if (at === null) return false;
  try {
    const copy = new Int32Array(rt.heap.buffer(), at, N);
    for (let i = 0; i < N; i++) copy[i] = tokenId(ids, i, V);
    fn(at);
    return true;
  } finally {
    rt.heap.release(at, bytes);
  }
}

export function createGather(runtime: () => WasmRuntime): Kernels['gather'] {
  return (args) => {
    const { table, ids, out, N, V, C } = args;
    const rt = runtime();
    const at = heapAddresses(rt, [table, out]);
    const ran =
      at !== null &&
      withIds(rt, ids, N, V, (idsAt) =>
        runSplit(rt, 'gatherRows', N, 1, rowsFor(PARALLEL_MIN, C), (first, count) => [
          at[0]!,
          idsAt,
          at[1]!,
          first,
          count,
          C,
        ]),
      );
    if (!ran) referenceGather(args);
  };
}

export function createScatterAdd(runtime: () => WasmRuntime): Kernels['scatterAdd'] {
  return (args) => {
    const { dout, ids, dtable, N, V, C } = args;
    const rt = runtime();
    const at = heapAddresses(rt, [dout, dtable]);
    const ran =
      at !== null &&
      withIds(rt, ids, N, V, (idsAt) =>
        runSplit(rt, 'scatterAddColumns', C, 4, N * C >= PARALLEL_MIN ? 1 : Infinity, (c0, width) => [
          at[0]!,
          idsAt,
          at[1]!,
          N,
          C,
          c0,
          width,
        ]),
      );
    if (!ran) referenceScatterAdd(args);
  };
}
