/**
 * Matmul and its backward. With A' = op(A), B' = op(B) (op = optional transpose) and C = A'B':
 *   dA' = dC B'^T,  dB' = A'^T dC,  d bias = dC summed over every row,
 * then transposed back where the operand was transposed, and summed over broadcast batch dims.
 * The backward products are matmuls with transpose flags: no transposed copies are made.
 */
import * as T from '@mini/tensor';
import { type Variable, record } from '../variable.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Variable;
}

export function matmul(a: Variable, b: Variable, options: MatmulOptions = {}): Variable {
  const { transA = false, transB = false, bias } = options;
  const out = T.matmul(a.data, b.data, { transA, transB, bias: bias?.data });
  const inputs = bias ? [a, b, bias] : [a, b];
  return record('matmul', inputs, out, (g) => T.tidy(() => {
    const at = transA ? a.data.transpose() : a.data; // A' as a view
    const bt = transB ? b.data.transpose() : b.data;
    let da: T.Tensor | null = null;
    let db: T.Tensor | null = null;
    if (a.requiresGrad) {
      const dat = T.matmul(g, bt, { transB: true }); // (..., M, K)
      da = T.sumTo(transA ? dat.transpose() : dat, a.shape);
    }
    if (b.requiresGrad) {
      // A weight shared by a batch: flatten the batch into rows, (K, B*M) @ (B*M, N), rather
      // than one (K, N) product per batch entry summed afterwards.
      const shared = b.shape.length === 2 && at.rank > 2;
      const lhs = shared ? at.reshape([-1, at.shape[at.rank - 1]!]) : at;
      const rhs = shared ? g.reshape([-1, g.shape[g.rank - 1]!]) : g;
      const dbt = T.matmul(lhs, rhs, { transA: true }); // (..., K, N)
      db = T.sumTo(transB ? dbt.transpose() : dbt, b.shape);
    }
    const grads: Array<T.Tensor | null> = [da, db];
    if (bias) grads.push(bias.requiresGrad ? T.sumTo(g, bias.shape) : null);
    return grads;
  }));
}
