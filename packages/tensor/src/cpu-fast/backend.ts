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
import { adamwEach } from '../cpu/adamw.js';
import { createAttention, createAttentionBackward } from './attention.js';
import { createBinary, createUnary } from './arith.js';
import { createDropout } from './dropout.js';
import { createUniform } from './random.js';
import { createCopy } from './copy.js';
import { createGather, createScatterAdd } from './embedding.js';
import { createCrossEntropy, createCrossEntropyBackward } from './cross-entropy.js';
import { createGelu, createGeluBackward } from './gelu.js';
import { createCast, createGather as createHalfGather } from './half.js';
import { createLayerNorm, createLayerNormBackward } from './layernorm.js';
import { createMatmul } from './matmul.js';
import { createMatmulQuantized } from './matmul-quantized.js';
import { createReduce } from './reduce.js';
import { createSoftmax, createSoftmaxBackward } from './softmax.js';
import { heapBytes } from './heap-views.js';
import { HeapStorage } from './storage.js';
import { noRoom } from './wasm-heap.js';
import { type HeapAddressing, maxPages, tensorLimitBytes } from './wasm-heap.js';
import {
  type WasmRuntime,
  type WasmRuntimeOptions,
  createWasmRuntime,
  hasMemory64,
  resolveAddressing,
} from './wasm-runtime.js';

/** Tensors of at least this many bytes ask for huge pages (a whole 2 MB page may fit inside). */
const HUGE_PAGE_BYTES = 2 << 20;

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
    const fastAdamw = createAdamw(runtime);
    const fastDropout = createDropout(runtime);
    const fastBinary = createBinary(runtime);
    const fastLayerNormBackward = createLayerNormBackward(runtime);
    const fastMatmul = createMatmul(runtime);
    const fastReduce = createReduce(runtime);
    super({
      ...referenceKernels,
      matmul: (args) => {
        fastMatmul(args);
        // The bias gradient beside x^T g: the reduction T.sum runs on a contiguous (K, N) g.
        if (args.columnSums) fastReduce('sum', args.b.view, 1, args.K, args.N, args.columnSums);
      },
      matmulQuantized: createMatmulQuantized(runtime),
      adamw: fastAdamw,
      adamwMany: (entries, step) => adamwEach(fastAdamw, entries, step),
      dropout: (x, out, mask, residual) => {
        fastDropout(x, out, mask);
        // The residual add after the mask (the same bits as dropout then add).
        if (residual) fastBinary('add', residual, out, out);
      },
      uniform: createUniform(runtime),
      unary: createUnary(runtime),
      binary: fastBinary,
      copy: createCopy(runtime),
      gelu: createGelu(runtime),
      geluBackward: createGeluBackward(runtime),
      softmax: createSoftmax(runtime),
      softmaxBackward: createSoftmaxBackward(runtime),
      attention: createAttention(runtime),
      attentionBackward: createAttentionBackward(runtime),
      layerNorm: createLayerNorm(runtime),
      layerNormBackward: (args) => {
        fastLayerNormBackward(args);
        // The residual's gradient added after the backward (the bits of add(accumulate, dx)).
        if (args.accumulate) fastBinary('add', args.accumulate, args.dx, args.dx);
      },
      crossEntropy: createCrossEntropy(runtime),
      crossEntropyBackward: createCrossEntropyBackward(runtime),
      reduce: fastReduce,
      cast: createCast(runtime),
      gather: byTableDType(createGather(runtime), createHalfGather(runtime)),
      scatterAdd: createScatterAdd(runtime),
    });
    self = this;
  }

  /** The WebAssembly kernels, their heap and worker threads: made on first use, not at import. */
  runtime(): WasmRuntime {
    return (this.instance ??= createWasmRuntime({ ...this.options, addressing: this.addressing }));
  }

  /** Float storages that did not fit the heap (typed arrays that kernels copy in), and their bytes not yet released. */
  private readonly outside = new WeakSet<BackendStorage>();
  private outsideBytes = 0;

  /** Bytes of float32/16-bit tensors allocated outside the heap and not released (0 when everything fits). */
  outsideHeapBytes(): number {
    return this.outsideBytes;
  }

  /** memory64 when a `reserve` asked for more than a wasm32 heap holds (with addressing 'auto'). */
  private planned: HeapAddressing | null = null;

  /**
   * How the heap is (or will be) addressed: as the options say; for 'auto' (the default)
   * wasm32 unless `reserve` asked for more than it holds and the runtime has memory64.
   * Measured (Node 24, 2 cores): the memory64 kernels run the 124M training step about 30%
   * slower (bounds-checked 64-bit addresses), so memory64 is for work that needs it.
   */
  get addressing(): HeapAddressing {
    if (this.instance) return this.instance.heap.addressing;
    const choice = this.options.addressing ?? 'auto';
    return choice === 'auto' ? (this.planned ?? 'wasm32') : resolveAddressing(choice);
  }

  /** See Backend.reserve: takes memory64 for more than a wasm32 heap's tensor space, before the heap is made. */
  reserve(bytes: number): void {
    if (this.instance || (this.options.addressing ?? 'auto') !== 'auto') return;
    if (bytes > tensorLimitBytes(maxPages.wasm32) && hasMemory64()) this.planned = 'memory64';
  }

  /** Bytes of the heap that tensors may fill (7/8 of its limit; see wasm-heap.ts); memory64's where it can still be chosen. */
  tensorCapacity(): number {
    const auto = !this.instance && (this.options.addressing ?? 'auto') === 'auto' && hasMemory64();
    return tensorLimitBytes(
      Math.min(this.options.maximumPages ?? Infinity, maxPages[auto ? 'memory64' : this.addressing]),
    );
  }

  /** For the device description: which heap the tensors live in (and whether memory64 exists). */
  heapSummary(): string {
    if (this.addressing === 'memory64') return 'heap: WebAssembly memory64, up to 16 GiB';
    if (!hasMemory64()) return 'heap: wasm32, 4 GiB (this runtime has no WebAssembly memory64; Node 24 has it)';
    return this.instance || this.options.addressing === 'wasm32'
      ? 'heap: wasm32, 4 GiB'
      : 'heap: wasm32, 4 GiB (memory64, up to 16 GiB, for models that need more)';
  }

  /** Bytes the WebAssembly heap has taken from the system (blocks in use and free). */
  heapBytes(): number {
    return this.instance?.heap.reservedBytes ?? 0;
  }

  override allocate(dtype: DType, size: number): BackendStorage {
    if ((dtype !== 'float32' && !isHalf(dtype)) || size === 0) return super.allocate(dtype, size);
    const bytes = bytesPerElement[dtype] * size;
    // One tensor past the heap's whole tensor space could never reach a kernel: refuse it as
    // matmul refuses a result that does not fit, rather than fill the host's memory outside.
    const limit = this.runtime().heap.tensorLimit;
    if (bytes > limit) throw noRoom(this.runtime(), `a tensor of ${bytes} bytes`, bytes);
    const pointer = this.runtime().heap.allocate(bytes, true);
    if (pointer === null) {
      const outside = super.allocate(dtype, size);
      this.outside.add(outside);
      this.outsideBytes += outside.byteLength;
      return outside;
    }
    // 2 MB pages inside a large tensor, where the addon can ask for them (NativeKernels.hugePages):
    // a 4 kB page fault cost microseconds in a VM, and loading gpt2-xl's int8 weights took 5-6 s
    // of them. Only whole pages inside the tensor's bytes, never the size class's unused tail:
    // a huge page there would count in the resident set though nothing writes it.
    if (bytes >= HUGE_PAGE_BYTES) this.runtime().native?.hugePages?.(heapBytes(this.runtime()), pointer, bytes);
    const storage = new HeapStorage(this.runtime().heap, pointer, size, dtype);
    this.collected.register(storage, { pointer, bytes }, storage);
    return this.track(storage);
  }

  override release(storage: BackendStorage): void {
    super.release(storage);
    if (this.outside.delete(storage)) this.outsideBytes -= storage.byteLength;
    if (!(storage instanceof HeapStorage) || storage.released) return;
    storage.released = true;
    this.collected.unregister(storage);
    storage.heap.release(storage.pointer, storage.byteLength);
  }
}

export function createFastCpuBackend(options: WasmRuntimeOptions = {}): FastCpuBackend {
  return new FastCpuBackend(options);
}
