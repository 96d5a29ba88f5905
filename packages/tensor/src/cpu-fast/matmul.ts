/**
 * Matmul on the CPU through the WebAssembly SIMD kernel in packages/tensor/wasm/sgemm.ts.
 * Each matrix of a batch is copied into the module's memory (its stored range, so transposed
 * views are read in place by strides), multiplied, and copied out with the bias added. The
 * copies are O(MK + KN + MN) against the product's O(MKN). float64 goes to the reference.
 */
import type { MatmulArgs, MatrixOperand } from '../backend.js';
import { matmul as referenceMatmul } from '../cpu/matmul.js';
import { dataOf } from '../cpu/storage.js';
import { wasmModules } from './wasm.generated.js';

interface SgemmExports {
  memory: WebAssembly.Memory;
  ensureMemory(bytes: number): number;
  sgemm(...args: number[]): void;
  sgemmSmallM(...args: number[]): void;
}

const MC = 128;
const KC = 256;
const SMALL_M = 8;

let kernel: SgemmExports | null = null;

function instance(): SgemmExports {
  if (kernel) return kernel;
  const bytes = Uint8Array.from(atob(wasmModules.sgemm!), (c) => c.charCodeAt(0));
  const module = new WebAssembly.Module(bytes);
  kernel = new WebAssembly.Instance(module, { env: { abort: () => { throw new Error('sgemm: abort'); } } }).exports as unknown as SgemmExports;
  return kernel;
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
  const k = instance();
  const aSize = storedRange(a, M, K, 0)[1];
  const bSize = storedRange(b, K, N, 0)[1];
  const aPtr = 64;
  const bPtr = align(aPtr + aSize * 4);
  const cPtr = align(bPtr + bSize * 4);
  const scratch = align(cPtr + M * N * 4);
  k.ensureMemory(scratch + 4 * (MC * KC + 32 + KC * Math.ceil(N / 8) * 8) + 64);
  const memory = new Float32Array(k.memory.buffer);
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
    const run = M < SMALL_M ? k.sgemmSmallM : k.sgemm;
    run(M, N, K, aPtr, aRow, aCol, bPtr, bRow, bCol, cPtr, N, scratch);
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
