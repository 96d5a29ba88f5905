/**
 * The fast CPU backend: the reference backend's kernels, with matmul (where the time goes),
 * AdamW, dropout, GELU, softmax, fused attention, layer norm, cross-entropy, embedding, sum/mean, strided copies and arithmetic
 * (forward and backward) replaced by WebAssembly SIMD kernels run on every core, and the other
 * elementwise kernels by loops without index arrays. Its float32 (and float16/bfloat16) tensors
 * live in the kernels' WebAssembly heap (wasm-heap.ts) when they
 * fit, so matmul reads and writes them in place. More kernels move here as they are written;
 * the reference backend stays the plain-loop oracle the tests compare against.
 */
import type { BackendStorage, Kernels } from '../backend.js';
import { CpuBackend, referenceKernels } from '../cpu/backend.js';
import { type DType, bytesPerElement, isHalf } from '../dtype.js';
import { createAdamw } from './adamw.js';
import { createAttention, createAttentionBackward } from './attention.js';
import { createBinary, createUnary } from './arith.js';
import { createDropout } from './dropout.js';
import { createCopy } from './copy.js';
import { createGather, createScatterAdd } from './embedding.js';
import { createCrossEntropy, createCrossEntropyBackward } from './cross-entropy.js';
import { createGelu, createGeluBackward } from './gelu.js';
import { createCast, createGather as createHalfGather } from './half.js';
import { createLayerNorm, createLayerNormBackward } from './layernorm.js';
import { createMatmul } from './matmul.js';
import { createReduce } from './reduce.js';
import { createSoftmax, createSoftmaxBackward } from './softmax.js';
import { HeapStorage } from './storage.js';
import { type WasmRuntime, type WasmRuntimeOptions, createWasmRuntime } from './wasm-runtime.js';

/** The float32 gather (threaded rows) for a float32 table, the widening one for a 16-bit table. */
function byTableDType(float32: Kernels['gather'], half: Kernels['gather']): Kernels['gather'] {
  return (args) => (isHalf(args.table.dtype) ? half(args) : float32(args));
}

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
      softmax: createSoftmax(runtime), softmaxBackward: createSoftmaxBackward(runtime),
      attention: createAttention(runtime), attentionBackward: createAttentionBackward(runtime), layerNorm: createLayerNorm(runtime),
      layerNormBackward: createLayerNormBackward(runtime), crossEntropy: createCrossEntropy(runtime),
      crossEntropyBackward: createCrossEntropyBackward(runtime), reduce: createReduce(runtime),
      cast: createCast(runtime), gather: byTableDType(createGather(runtime), createHalfGather(runtime)), scatterAdd: createScatterAdd(runtime) });
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
    if ((dtype !== 'float32' && !isHalf(dtype)) || size === 0) return super.allocate(dtype, size);
    const bytes = bytesPerElement[dtype] * size;
    const pointer = this.runtime().heap.allocate(bytes, true);
    if (pointer === null) return super.allocate(dtype, size);
    const storage = new HeapStorage(this.runtime().heap, pointer, size, dtype);
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
