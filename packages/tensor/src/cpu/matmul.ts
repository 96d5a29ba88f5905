/** Reference (batched) matmul: out[b] = op(A[b]) @ op(B[b]) (+ bias), float64 accumulation. */
import type { MatmulArgs, MatrixOperand } from '../backend.js';
import { dataOf } from './storage.js';

/** Storage index of element (row, col) of the operand's (untransposed) logical matrix. */
function elementIndex(op: MatrixOperand, batch: number, row: number, col: number): number {
  const base = op.view.offset + batch * op.batchStride;
  return op.transposed ? base + col * op.ld + row : base + row * op.ld + col;
}

export function matmul({ batch, M, N, K, a, b, bias, out }: MatmulArgs): void {
  const da = dataOf(a.view);
  const db = dataOf(b.view);
  const dout = dataOf(out);
  const dbias = bias ? dataOf(bias) : null;
  const row = new Float64Array(N);
  for (let p = 0; p < batch; p++) {
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const aik = da[elementIndex(a, p, i, k)]!;
        if (aik === 0) continue;
        for (let j = 0; j < N; j++) row[j]! += aik * db[elementIndex(b, p, k, j)]!;
      }
      const base = out.offset + (p * M + i) * N;
      for (let j = 0; j < N; j++) dout[base + j] = row[j]! + (dbias ? dbias[bias!.offset + j]! : 0);
    }
  }
}
