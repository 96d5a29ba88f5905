/** Where a view's elements are in the WebAssembly heap, for kernels that run in it. */
import type { View } from '../backend.js';
import { type DType, bytesPerElement } from '../dtype.js';
import { HeapStorage } from './storage.js';
import type { WasmRuntime } from './wasm-runtime.js';

/** Byte address of the view's first element, or null when its storage is not in this heap. */
export function heapAddress(runtime: WasmRuntime, view: View): number | null {
  const storage = view.storage;
  return storage instanceof HeapStorage && storage.heap === runtime.heap ? storage.pointer + bytesPerElement[view.dtype] * view.offset : null;
}

/** The `kind` argument of the WebAssembly kernels that read 16-bit floats (wasm/half.ts). */
export const halfKind: Partial<Record<DType, number>> = { float32: 0, float16: 1, bfloat16: 2 };
