/** The CPU reference backend: plain loops over typed arrays, the oracle for every other backend. */
import type { Backend, BackendStorage, Kernels, View } from '../backend.js';
import { type DType, type TypedArray, typedArrayFor } from '../dtype.js';
import { adamw, adamwEach } from './adamw.js';
import { attention, attentionBackward } from './attention.js';
import { crossEntropy, crossEntropyBackward } from './cross-entropy.js';
import { dropout } from './dropout.js';
import { uniform } from './random.js';
import { binary, cast, copy, fill, unary } from './elementwise.js';
import { gather, scatterAdd } from './embedding.js';
import { layerNorm, layerNormBackward } from './layernorm.js';
import { matmul } from './matmul.js';
import { matmulQuantized } from './matmul-quantized.js';
import { reduce } from './reduce.js';
import { softmax, softmaxBackward } from './softmax.js';
import { topKCandidates } from './top-k.js';
import { isContiguousLayout, sizeOf } from '../shape.js';
import { CpuStorage, dataOf, stridedIndices } from './storage.js';

/** The plain-loop kernels: the oracle every other backend is tested against. */
export const referenceKernels: Kernels = {
  copy,
  cast,
  fill,
  unary,
  binary,
  matmul: (args) => {
    matmul(args);
    // The bias gradient beside x^T g: the reduction T.sum runs on a contiguous (K, N) g.
    if (args.columnSums) reduce('sum', args.b.view, 1, args.K, args.N, args.columnSums);
  },
  matmulQuantized,
  gelu: (x, out) => unary('gelu', x, out, 0),
  geluBackward: (x, dy, dx) => binary('gelu_backward', x, dy, dx),
  reduce,
  topKCandidates,
  softmax,
  softmaxBackward,
  attention,
  attentionBackward,
  layerNorm,
  layerNormBackward: (args) => {
    layerNormBackward(args);
    // The residual's gradient added after the backward (the bits of add(accumulate, dx)).
    if (args.accumulate) binary('add', args.accumulate, args.dx, args.dx);
  },
  gather,
  scatterAdd,
  crossEntropy,
  crossEntropyBackward,
  dropout,
  uniform,
  adamw,
  adamwMany: (entries, step) => adamwEach(adamw, entries, step),
};

export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;

  constructor(readonly kernels: Kernels = referenceKernels) {}

  private live = 0;
  private peak = 0;

  supports(_dtype: DType): boolean {
    return true;
  }

  allocate(dtype: DType, size: number): BackendStorage {
    return this.track(new CpuStorage(typedArrayFor(dtype, size)));
  }

  /** Counts a new storage in the live and peak bytes. */
  protected track(storage: CpuStorage): CpuStorage {
    this.live += storage.byteLength;
    this.peak = Math.max(this.peak, this.live);
    return storage;
  }

  upload(storage: BackendStorage, data: TypedArray): void {
    (storage as CpuStorage).data.set(data);
  }

  async read(view: View): Promise<TypedArray> {
    if (isContiguousLayout(view.shape, view.strides))
      return dataOf(view).slice(view.offset, view.offset + sizeOf(view.shape));
    const out = typedArrayFor(view.dtype, sizeOf(view.shape));
    const data = dataOf(view);
    const idx = stridedIndices(view);
    for (let i = 0; i < idx.length; i++) out[i] = data[idx[i]!]!; // raw elements: 16-bit patterns stay bits
    return out;
  }

  release(storage: BackendStorage): void {
    this.live -= storage.byteLength;
  }

  hostData(storage: BackendStorage): TypedArray {
    return (storage as CpuStorage).data;
  }

  liveBytes(): number {
    return this.live;
  }

  peakBytes(): number {
    return this.peak;
  }

  resetPeakBytes(): void {
    this.peak = this.live;
  }

  flush(): void {}
  destroy(): void {}
}
