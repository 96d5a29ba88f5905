/**
 * Matmul on the CPU through the WebAssembly SIMD kernel in packages/tensor/wasm/sgemm.ts,
 * split across worker threads when an entry point registered them (threads.ts).
 * Each matrix of a batch is copied into the module's memory (its stored range, so transposed
 * views are read in place by strides), multiplied, and copied out with the bias added. The
 * copies are O(MK + KN + MN) against the product's O(MKN). float64 goes to the reference.
 */
import type { MatmulArgs, MatrixOperand } from '../backend.js';
import { matmul as referenceMatmul } from '../cpu/matmul.js';
import { dataOf } from '../cpu/storage.js';
import { type KernelCall, type ParallelRunner, parallelRunnerFactory } from './threads.js';
import { wasmModules } from './wasm.generated.js';

interface SgemmExports {
  ensureMemory(bytes: number): number;
  sgemm(...args: number[]): void;
  sgemmSmallM(...args: number[]): void;
}

interface Kernel {
  exports: SgemmExports;
  memory: WebAssembly.Memory;
  runner: ParallelRunner | null;
}

const MC = 128;
const KC = 256;
const SMALL_M = 8;
/** Below this many multiply-adds, waking the workers costs more than it saves. */
const PARALLEL_MIN_WORK = 1 << 20;

let kernel: Kernel | null = null;

function instance(): Kernel {
  if (kernel) return kernel;
  const bytes = Uint8Array.from(atob(wasmModules.sgemm!), (c) => c.charCodeAt(0));
  // Shared, so that worker threads (threads.ts) can compute parts of the same product.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  const env = { memory, abort: () => { throw new Error('sgemm: abort'); } };
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env }).exports as unknown as SgemmExports;
  const runner = parallelRunnerFactory()?.(memory, bytes) ?? null;
  kernel = { exports, memory, runner };
  return kernel;
}

/** Splits one product into per-thread calls: by rows when there are many, else by columns. */
function parts(M: number, N: number, args: number[], scratchBytes: number, threads: number): KernelCall[] {
  const [, , K, a, aRow, aCol, b, bRow, bCol, c, ldc, scratch] = args as [number, number, number, number, number, number, number, number, number, number, number, number];
  const kernelName = M < SMALL_M ? 'sgemmSmallM' : 'sgemm';
  const calls: KernelCall[] = [];
  const byRows = M >= 32 * threads;
  const extent = byRows ? M : N;
  const step = Math.ceil(extent / threads / 8) * 8;
  for (let t = 0, start = 0; start < extent; t++, start += step) {
    const size = Math.min(step, extent - start);
    const own = scratch + t * scratchBytes;
    calls.push(byRows
      ? { kernel: kernelName, args: [size, N, K, a + 4 * start * aRow, aRow, aCol, b, bRow, bCol, c + 4 * start * ldc, ldc, own] }
      : { kernel: kernelName, args: [M, size, K, a, aRow, aCol, b + 4 * start * bCol, bRow, bCol, c + 4 * start, ldc, own] });
  }
  return calls;
}

/** [first stored element, element count] of one matrix of an operand. */
function storedRange(op: MatrixOperand, rows: number, cols: number, batch: number): [number, number] {
  const [outer, inner] = op.transposed ? [cols, rows] : [rows, cols];
  return [op.view.offset + batch * op.batchStride, (outer - 1) * op.ld + inner];
}

const align = (n: number) => Math.ceil(n / 16) * 16;

export function matmul(args: MatmulArgs): void {
  const { batch, M, N, K, a, b, bias, out } = args;
  if (out.dtype !== 'float32') { referenceMatmul(args); return; }
  const { exports: k, memory: wasmMemory, runner } = instance();
  const threads = runner?.threads ?? 1;
  const aSize = storedRange(a, M, K, 0)[1];
  const bSize = storedRange(b, K, N, 0)[1];
  const aPtr = 64;
  const bPtr = align(aPtr + aSize * 4);
  const cPtr = align(bPtr + bSize * 4);
  const scratch = align(cPtr + M * N * 4);
  const scratchBytes = align(4 * (MC * KC + 32 + KC * Math.ceil(N / 8) * 8));
  k.ensureMemory(scratch + threads * scratchBytes + 64);
  const memory = new Float32Array(wasmMemory.buffer);
  const [aRow, aCol] = a.transposed ? [1, a.ld] : [a.ld, 1];
  const [bRow, bCol] = b.transposed ? [1, b.ld] : [b.ld, 1];
  const da = dataOf(a.view);
  const db = dataOf(b.view);
  const dout = dataOf(out);
  for (let p = 0; p < batch; p++) {
    const [aFirst] = storedRange(a, M, K, p);
    memory.set(da.subarray(aFirst, aFirst + aSize), aPtr / 4);
    if (p === 0 || b.batchStride !== 0) {
      const [bFirst] = storedRange(b, K, N, p);
      memory.set(db.subarray(bFirst, bFirst + bSize), bPtr / 4);
    }
    const args = [M, N, K, aPtr, aRow, aCol, bPtr, bRow, bCol, cPtr, N, scratch];
    const runHere = (call: KernelCall) => k[call.kernel](...call.args);
    if (runner && M * N * K >= PARALLEL_MIN_WORK) runner.run(parts(M, N, args, scratchBytes, threads), runHere);
    else runHere({ kernel: M < SMALL_M ? 'sgemmSmallM' : 'sgemm', args });
    const result = memory.subarray(cPtr / 4, cPtr / 4 + M * N);
    const base = out.offset + p * M * N;
    if (!bias) {
      dout.set(result, base);
    } else {
      const db_ = dataOf(bias);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) dout[base + i * N + j] = result[i * N + j]! + db_[bias.offset + j]!;
    }
  }
}
