/**
 * Optional native kernels for the fast CPU backend: a Node-API addon (packages/tensor/native,
 * C with AVX-512 or AVX2+FMA, built at install when a compiler is there). WebAssembly SIMD-128
 * cannot use this CPU's 256- and 512-bit FMA units; the addon can. It works in place on the
 * WebAssembly heap: each call gets a Uint8Array over the heap's buffer and byte offsets.
 * Like the worker threads, the addon is platform-specific: the Node entry point (node.ts)
 * registers it here; a browser, or a Node without the built addon, leaves none and the
 * WebAssembly kernels run.
 */

/** The addon's kernels (packages/tensor/native/src/addon.c). */
export interface NativeKernels {
  /** The instruction set the kernels run: "avx512" or "avx2". */
  readonly isa: string;
  /**
   * Batched C = A @ B [+ bias] in the heap: args = [M, N, K, a, aRow, aCol, b, bRow, bCol, bKind, c, ldc, bias,
   * batch, aBatch, bBatch, cBatch] (a, b, c, bias: byte offsets, bias -1 for none; strides in elements;
   * bKind 0 float32, 1 float16, 2 bfloat16). Throws RangeError when an operand lies outside `heap`.
   */
  sgemm(heap: Uint8Array, args: number[], threads: number): void;
  /** The quantized matvec's instruction set: "avx512-vnni" or "avx2" (native/src/qgemv.c). */
  readonly qgemvIsa: string;
  /**
   * wasm/quant.ts quantMatvec's product, bit for bit, in the heap: args = [format, M, N, nb, aq,
   * ad, w, ws, c, ldc, bias, chunk] (format 0 q8_0, 1 q4_0; aq / ad from quantizeActivations with
   * rdot 1; byte offsets, bias -1 for none; chunk: rows a thread claims at a time, rounded up to 4).
   * Throws RangeError when an operand lies outside `heap`.
   */
  qgemv(heap: Uint8Array, args: number[], threads: number): void;
  /**
   * Asks the system for 2 MB pages over the whole 2 MB pages inside heap[offset, offset + length)
   * (Linux's transparent huge pages, madvise): fewer page faults when weights load into fresh heap
   * memory. Returns whether the system took the advice; throws RangeError for a range outside
   * `heap`. Absent in an addon built before it.
   */
  hugePages?(heap: Uint8Array, offset: number, length: number): boolean;
}

/** What the CPU device runs, for the device line: the addon's kernels, or why there are none. */
export interface NativeStatus {
  kernels: NativeKernels | null;
  /** "native AVX-512 matmul, AVX-512 VNNI quantized matvec" or "no native kernels: <reason>". */
  summary: string;
}

let status: NativeStatus | (() => NativeStatus) = { kernels: null, summary: 'no native kernels in this runtime' };

/**
 * Registers the addon's kernels, or a loader run on first use (so that its environment
 * variables are read, and a bad value refused, when the CPU device is used, not at import).
 */
export function setNativeKernels(s: NativeStatus | (() => NativeStatus)): void {
  status = s;
}

/** The registered kernels (running the loader once). @throws what the loader throws (EnvironmentError) */
export function nativeStatus(): NativeStatus {
  if (typeof status === 'function') status = status();
  return status;
}

const isaNames: Record<string, string> = { avx512: 'AVX-512', avx2: 'AVX2+FMA', 'avx512-vnni': 'AVX-512 VNNI' };

/** The device line's words for an instruction set. */
export function isaName(isa: string): string {
  return isaNames[isa] ?? isa;
}
