/**
 * The fast CPU backend: the reference backend's kernels, with matmul (where the time goes),
 * AdamW, dropout, GELU, softmax, layer norm, cross-entropy, embedding, sum/mean, strided copies and arithmetic
 * (forward and backward) replaced by WebAssembly SIMD kernels run on every core, and the other
 * elementwise kernels by loops without index arrays. Its float32 tensors live in the kernels' WebAssembly heap (wasm-heap.ts) when they
 * fit, so matmul reads and writes them in place. More kernels move here as they are written;
 * the reference backend stays the plain-loop oracle the tests compare against.
 */
import type { BackendStorage } from '../backend.js';
import { CpuBackend, referenceKernels } from '../cpu/backend.js';
import type { DType } from '../dtype.js';
import { createAdamw } from './adamw.js';
import { createBinary, createUnary } from './arith.js';
import { createDropout } from './dropout.js';
import { createCopy } from './copy.js';
import { createGather, createScatterAdd } from './embedding.js';
import { createCrossEntropy, createCrossEntropyBackward } from './cross-entropy.js';
import { createGelu, createGeluBackward } from './gelu.js';
import { createLayerNorm, createLayerNormBackward } from './layernorm.js';
import { createMatmul } from './matmul.js';
import { createReduce } from './reduce.js';
import { createSoftmax, createSoftmaxBackward } from './softmax.js';
import { HeapStorage } from './storage.js';
import { type WasmRuntime, type WasmRuntimeOptions, createWasmRuntime } from './wasm-runtime.js';

export class FastCpuBackend extends CpuBackend {
  private instance: WasmRuntime | null = null;
  /** Returns the heap blocks of storages collected without being released (undisposed tensors). */
  private readonly collected = new FinalizationRegistry<{ pointer: number; bytes: number }>(({ pointer, bytes }) => {
    this.instance?.heap.release(pointer, bytes);
  });

  constructor(private readonly options: WasmRuntimeOptions = {}) {
    let self: FastCpuBackend | null = null;
    const runtime = () => self!.runtime();
    super({ ...referenceKernels, matmul: createMatmul(runtime), adamw: createAdamw(runtime), dropout: createDropout(runtime),
      unary: createUnary(runtime), binary: createBinary(runtime), copy: createCopy(runtime), gelu: createGelu(runtime), geluBackward: createGeluBackward(runtime),
      softmax: createSoftmax(runtime), softmaxBackward: createSoftmaxBackward(runtime), layerNorm: createLayerNorm(runtime),
      layerNormBackward: createLayerNormBackward(runtime), crossEntropy: createCrossEntropy(runtime),
      crossEntropyBackward: createCrossEntropyBackward(runtime), reduce: createReduce(runtime),
      gather: createGather(runtime), scatterAdd: createScatterAdd(runtime) });
    self = this;
  }

  /** The WebAssembly kernels, their heap and worker threads: made on first use, not at import. */
  runtime(): WasmRuntime {
    return (this.instance ??= createWasmRuntime(this.options));
  }

  /** Bytes the WebAssembly heap has taken from the system (blocks in use and free). */
  heapBytes(): number {
    return this.instance?.heap.reservedBytes ?? 0;
  }

  override allocate(dtype: DType, size: number): BackendStorage {
    if (dtype !== 'float32' || size === 0) return super.allocate(dtype, size);
    const bytes = 4 * size;
    const pointer = this.runtime().heap.allocate(bytes, true);
    if (pointer === null) return super.allocate(dtype, size);
    const storage = new HeapStorage(this.runtime().heap, pointer, size);
    this.collected.register(storage, { pointer, bytes }, storage);
    return this.track(storage);
  }

  override release(storage: BackendStorage): void {
    super.release(storage);
    if (!(storage instanceof HeapStorage) || storage.released) return;
    storage.released = true;
    this.collected.unregister(storage);
    storage.heap.release(storage.pointer, storage.byteLength);
  }
}

export function createFastCpuBackend(options: WasmRuntimeOptions = {}): FastCpuBackend {
  return new FastCpuBackend(options);
}
