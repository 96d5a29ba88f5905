/**
 * Matmul on the CPU through the WebAssembly SIMD kernel in packages/tensor/wasm/sgemm.ts,
 * split across worker threads when an entry point registered them (threads.ts).
 * Operands that live in the kernel's heap (wasm-heap.ts: every float32 tensor of this backend
 * that fits) are read in place, through their strides, and the result and bias are written in
 * place; an operand from anywhere else (a typed array past the heap's limit: 4 GiB without memory64) is first copied
 * in, its stored range only. float64 goes to the reference. A float16/bfloat16 B (a weight)
 * is read in place too, as 16-bit elements: the kernel widens it in registers (wasm/half.ts).
 * Where the native addon is registered (native.ts) and every operand is in the heap, the whole
 * batched product runs there instead (AVX-512 or AVX2 kernels on its own threads, same count).
 */
import type { MatmulArgs, MatrixOperand, View } from '../backend.js';
import { matmul as referenceMatmul } from '../cpu/matmul.js';
import { dataOf } from '../cpu/storage.js';
import { bytesPerElement } from '../dtype.js';
import { halfKind, heapAddress, heapBytes } from './heap-views.js';
import type { KernelCall, KernelName } from './threads.js';
import type { WasmRuntime } from './wasm-runtime.js';
import { noRoom } from './wasm-heap.js';

/**
 * The product in the native addon, in place, when A, B, the bias and the result are all in the
 * heap (A and the result float32); false when not, and the WebAssembly path takes it.
 */
function nativeMatmul(rt: WasmRuntime, args: MatmulArgs): boolean {
  const native = rt.native;
  if (!native || args.a.view.dtype !== 'float32') return false;
  const { batch, M, N, K, a, b, bias, out } = args;
  const aAt = heapAddress(rt, a.view);
  const bAt = heapAddress(rt, b.view);
  const cAt = heapAddress(rt, out);
  const biasAt = bias ? heapAddress(rt, bias) : -1;
  const bKind = halfKind[b.view.dtype];
  if (
    aAt === null ||
    bAt === null ||
    cAt === null ||
    biasAt === null ||
    bKind === undefined ||
    (bias && bias.dtype !== 'float32')
  )
    return false;
  const [aRow, aCol] = a.transposed ? [1, a.ld] : [a.ld, 1];
  const [bRow, bCol] = b.transposed ? [1, b.ld] : [b.ld, 1];
  native.sgemm(
    heapBytes(rt),
    [M, N, K, aAt, aRow, aCol, bAt, bRow, bCol, bKind, cAt, N, biasAt, batch, a.batchStride, b.batchStride, M * N],
    rt.runner?.threads ?? 1,
  );
  return true;
}

const MC = 128;
const KC = 256;
const SMALL_M = 8;
/** Below this many multiply-adds, waking the workers costs more than it saves. */
export const PARALLEL_MIN_WORK = 1 << 20;

/** Splits one product into per-thread calls: by rows when there are many, else by columns. */
export function parts(
  kernel: KernelCall['kernel'],
  M: number,
  N: number,
  args: number[],
  scratchBytes: number,
  threads: number,
): KernelCall[] {
  const [, , K, a, aRow, aCol, b, bRow, bCol, c, ldc, bias, scratch, bKind] = args as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const bBytes = bKind === 0 ? 4 : 2;
  const calls: KernelCall[] = [];
  const byRows = M >= 32 * threads;
  const extent = byRows ? M : N;
  const step = Math.ceil(extent / threads / 8) * 8;
  for (let t = 0, start = 0; start < extent; t++, start += step) {
    const size = Math.min(step, extent - start);
    const own = scratch + t * scratchBytes;
    calls.push(
      byRows
        ? {
            kernel,
            args: [
              size,
              N,
              K,
              a + 4 * start * aRow,
              aRow,
              aCol,
              b,
              bRow,
              bCol,
              c + 4 * start * ldc,
              ldc,
              bias,
              own,
              bKind,
            ],
          }
        : {
            kernel,
            args: [
              M,
              size,
              K,
              a,
              aRow,
              aCol,
              b + bBytes * start * bCol,
              bRow,
              bCol,
              c + 4 * start,
              ldc,
              bias && bias + 4 * start,
              own,
              bKind,
            ],
          },
    );
  }
  return calls;
}

/** [first stored element, element count] of one matrix of an operand. */
function storedRange(op: MatrixOperand, rows: number, cols: number, batch: number): [number, number] {
  const [outer, inner] = op.transposed ? [cols, rows] : [rows, cols];
  return [op.view.offset + batch * op.batchStride, (outer - 1) * op.ld + inner];
}

const align = (n: number) => Math.ceil(n / 64) * 64;

/** Bytes of sgemm's packing scratch for products N columns wide (wasm/sgemm.ts), 64-byte aligned. */
export const sgemmScratchBytes = (N: number): number => align(4 * (MC * KC + 32 + KC * Math.ceil(N / 8) * 8));

/** A heap block a call holds for its duration. */
interface Staging {
  pointer: number;
  bytes: number;
}

/**
 * Byte address of `view`'s element `first` in the heap. A view stored elsewhere has its
 * `count` elements from `first` copied into `staging` (allocated here on first use).
 */
function addressOf(runtime: WasmRuntime, view: View, first: number, count: number, staging: Staging[]): number {
  const base = heapAddress(runtime, view);
  const bytes = bytesPerElement[view.dtype];
  if (base !== null) return base + bytes * (first - view.offset);
  count = Math.max(count, 0);
  const pointer = allocateOrThrow(runtime, bytes * Math.max(count, 1), `an operand of ${count} elements`, staging);
  runtime.heap.array(view.dtype, pointer, count).set(dataOf(view).subarray(first, first + count));
  return pointer;
}

function allocateOrThrow(runtime: WasmRuntime, bytes: number, what: string, staging: Staging[]): number {
  const pointer = runtime.heap.allocate(bytes);
  if (pointer === null) throw noRoom(runtime, `${what} (${bytes} bytes)`, bytes, 'matmul');
  staging.push({ pointer, bytes });
  return pointer;
}

function releaseAll(runtime: WasmRuntime, staging: Staging[]): void {
  for (const { pointer, bytes } of staging.splice(0)) runtime.heap.release(pointer, bytes);
}

export function createMatmul(runtime: () => WasmRuntime): (args: MatmulArgs) => void {
  return (args) => {
    const { batch, M, N, K, a, b, bias, out } = args;
    if (out.dtype !== 'float32') {
      referenceMatmul(args);
      return;
    }
    if (batch === 0 || M === 0 || N === 0) return;
    const rt = runtime();
    if (nativeMatmul(rt, args)) return;
    const { exports: k, heap, runner } = rt;
    const threads = runner?.threads ?? 1;
    const kernel: KernelName = M < SMALL_M ? 'sgemmSmallM' : 'sgemm';
    const runHere = (call: KernelCall) => k[call.kernel](...call.args);
    const [aRow, aCol] = a.transposed ? [1, a.ld] : [a.ld, 1];
    const [bRow, bCol] = b.transposed ? [1, b.ld] : [b.ld, 1];
    const outAt = heapAddress(rt, out);
    const bKind = halfKind[b.view.dtype] ?? 0;
    const held: Staging[] = [];
    const perMatrix: Staging[] = [];
    try {
      const scratchBytes = sgemmScratchBytes(N);
      const scratch = allocateOrThrow(rt, threads * scratchBytes, 'packing buffers', held);
      const biasAt = bias ? addressOf(rt, bias, bias.offset, N, held) : 0;
      for (let p = 0; p < batch; p++) {
        const [aFirst, aCount] = storedRange(a, M, K, p);
        const [bFirst, bCount] = storedRange(b, K, N, p);
        const aAt = addressOf(rt, a.view, aFirst, aCount, perMatrix);
        const bAt = addressOf(rt, b.view, bFirst, bCount, perMatrix);
        const outFirst = out.offset + p * M * N;
        const cAt = outAt !== null ? outAt + 4 * p * M * N : allocateOrThrow(rt, 4 * M * N, 'the result', perMatrix);
        const call = [M, N, K, aAt, aRow, aCol, bAt, bRow, bCol, cAt, N, biasAt, scratch, bKind];
        if (runner && M * N * K >= PARALLEL_MIN_WORK)
          runner.run(parts(kernel, M, N, call, scratchBytes, threads), runHere);
        else runHere({ kernel, args: call });
        if (outAt === null) dataOf(out).set(heap.float32(cAt, M * N), outFirst);
        releaseAll(rt, perMatrix);
      }
    } finally {
      releaseAll(rt, perMatrix);
      releaseAll(rt, held);
    }
  };
}
