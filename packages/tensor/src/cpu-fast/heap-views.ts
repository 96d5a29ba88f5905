/** Where a view's elements are in the WebAssembly heap, for kernels that run in it. */
import type { View } from '../backend.js';
import { type DType, bytesPerElement } from '../dtype.js';
import { isContiguousLayout } from '../shape.js';
import { HeapStorage } from './storage.js';
import type { WasmRuntime } from './wasm-runtime.js';

/** Byte address of the view's first element, or null when its storage is not in this heap. */
export function heapAddress(runtime: WasmRuntime, view: View): number | null {
  const storage = view.storage;
  return storage instanceof HeapStorage && storage.heap === runtime.heap
    ? storage.pointer + bytesPerElement[view.dtype] * view.offset
    : null;
}

let bytesView: Uint8Array | null = null;

/** A Uint8Array over the heap's whole current buffer (a new one after the memory grows): what the native addon takes. */
export function heapBytes(runtime: WasmRuntime): Uint8Array {
  const buffer = runtime.heap.memory.buffer;
  if (bytesView?.buffer !== buffer) bytesView = new Uint8Array(buffer);
  return bytesView;
}

/** The `kind` argument of the WebAssembly kernels that read 16-bit floats (wasm/half.ts). */
export const halfKind: Partial<Record<DType, number>> = { float32: 0, float16: 1, bfloat16: 2 };

/** Heap addresses of float32 views, or null when any is another dtype or outside this heap. */
export function heapAddresses(runtime: WasmRuntime, views: readonly View[]): number[] | null {
  const out: number[] = [];
  for (const v of views) {
    const at = v.dtype === 'float32' ? heapAddress(runtime, v) : null;
    if (at === null) return null;
    out.push(at);
  }
  return out;
}

/** Rows a part must hold so that it has at least `elements` elements: waking a thread costs about that much work. */
export function rowsFor(elements: number, rowLength: number): number {
  return Math.max(1, Math.ceil(elements / Math.max(1, rowLength)));
}

/** Heap addresses of same-shape contiguous float32 views, or null if any is not one. */
export function contiguousHeapAddresses(runtime: WasmRuntime, views: View[]): number[] | null {
  const shape = views[0]!.shape;
  const out: number[] = [];
  for (const v of views) {
    if (v.dtype !== 'float32' || v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) return null;
    if (!isContiguousLayout(v.shape, v.strides)) return null;
    const at = heapAddress(runtime, v);
    if (at === null) return null;
    out.push(at);
  }
  return out;
}
