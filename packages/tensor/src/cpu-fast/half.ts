/**
 * The fast CPU backend's 16-bit float kernels: `cast` between float32 and float16/bfloat16,
 * and the embedding `gather` from a 16-bit table, through the WebAssembly conversions in
 * packages/tensor/wasm/half.ts (widening in SIMD registers, narrowing rounded to nearest even).
 * Views that are not contiguous or not in the heap go to the reference kernels.
 */
import type { GatherArgs, Kernels, View } from '../backend.js';
import { cast as referenceCast } from '../cpu/elementwise.js';
import { gather as referenceGather } from '../cpu/embedding.js';
import { dataOf } from '../cpu/storage.js';
import { bytesPerElement, isHalf } from '../dtype.js';
import { isContiguousLayout, sizeOf } from '../shape.js';
import { halfKind, heapAddress } from './heap-views.js';
import { type WasmRuntime, runSplit } from './wasm-runtime.js';

const PARALLEL_MIN = 1 << 16;

export function createCast(runtime: () => WasmRuntime): Kernels['cast'] {
  return (x, out) => {
    const rt = runtime();
    const widen = isHalf(x.dtype) && out.dtype === 'float32';
    const narrow = x.dtype === 'float32' && isHalf(out.dtype);
    const xAt = heapAddress(rt, x);
    const outAt = heapAddress(rt, out);
    if (!(widen || narrow) || xAt === null || outAt === null || !isContiguousLayout(x.shape, x.strides)) {
      referenceCast(x, out);
      return;
    }
    const kind = halfKind[widen ? x.dtype : out.dtype]!;
    const [xBytes, outBytes] = [bytesPerElement[x.dtype], bytesPerElement[out.dtype]];
    runSplit(rt, widen ? 'widenHalf' : 'narrowHalf', sizeOf(x.shape), 8, PARALLEL_MIN, (start, count) => [
      xAt + xBytes * start,
      outAt + outBytes * start,
      count,
      kind,
    ]);
  };
}

export function createGather(runtime: () => WasmRuntime): Kernels['gather'] {
  return (args: GatherArgs) => {
    const { table, ids, out, N, V, C } = args;
    const rt = runtime();
    const tableAt = isHalf(table.dtype) ? heapAddress(rt, table) : null;
    const outAt = heapAddress(rt, out);
    if (tableAt === null || outAt === null) {
      referenceGather(args);
      return;
    }
    const idData = dataOf(ids as View);
    const kind = halfKind[table.dtype]!;
    for (let i = 0; i < N; i++) {
      const id = idData[ids.offset + i]!;
      if (id < 0 || id >= V)
        throw new RangeError(`embedding: id ${id} at position ${i} is outside the table's ${V} rows`);
      rt.exports.widenHalf(tableAt + 2 * id * C, outAt + 4 * i * C, C, kind);
    }
  };
}
