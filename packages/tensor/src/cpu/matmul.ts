/** Reference (batched) matmul: out[b] = op(A[b]) @ op(B[b]) (+ bias), float64 accumulation; a 16-bit B is widened exactly. */
import type { MatmulArgs, MatrixOperand } from '../backend.js';
import { dataOf, valuesOf } from './storage.js';

/** Strides of the operand's logical (untransposed) matrix: [row stride, column stride]. */
function logicalStrides(op: MatrixOperand): [number, number] {
  return op.transposed ? [1, op.ld] : [op.ld, 1];
}

export function matmul({ batch, M, N, K, a, b, bias, out }: MatmulArgs): void {
  const da = dataOf(a.view);
  const db = valuesOf(b.view);
  const dout = dataOf(out);
  const dbias = bias ? dataOf(bias) : null;
  const [aRow, aCol] = logicalStrides(a);
  const [bRow, bCol] = logicalStrides(b);
  const row = new Float64Array(N);
  for (let p = 0; p < batch; p++) {
    const aBase = a.view.offset + p * a.batchStride;
    const bBase = b.view.offset + p * b.batchStride;
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const aik = da[aBase + i * aRow + k * aCol]!;
        if (aik === 0) continue;
        const bk = bBase + k * bRow;
        for (let j = 0; j < N; j++) row[j]! += aik * db[bk + j * bCol]!;
      }
      const base = out.offset + (p * M + i) * N;
      for (let j = 0; j < N; j++) dout[base + j] = row[j]! + (dbias ? dbias[bias!.offset + j]! : 0);
    }
  }
}
