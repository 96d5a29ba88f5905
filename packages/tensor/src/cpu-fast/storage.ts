/** A float32, float16 or bfloat16 storage of the fast CPU backend that lives in its WebAssembly heap. */
import { CpuStorage } from '../cpu/storage.js';
import type { DType } from '../dtype.js';
import type { WasmHeap } from './wasm-heap.js';

export class HeapStorage extends CpuStorage {
  /** Set once the block went back to the heap. */
  released = false;
  constructor(
    readonly heap: WasmHeap,
    readonly pointer: number,
    length: number,
    dtype: DType = 'float32',
  ) {
    super(heap.array(dtype, pointer, length));
  }
}
