/** Matmul with optional transposes and bias; its backward (products with transpose flags) is in ../registry.ts. */
import * as T from '@mini/tensor';
import { type Variable, dataOf, record } from '../variable.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use a's transpose: a is stored (..., K, M). */
  transA?: boolean;
  /** Use b's transpose: b is stored (..., N, K), as a linear layer's (out, in) weight. */
  transB?: boolean;
  /** (N), added to every output row. */
  bias?: Variable;
}

/**
 * (..., M, K) @ (..., K, N) -> (..., M, N), batch axes broadcast, with optional transposes and a
 * bias. Gradients are products with transpose flags (no transposed copies).
 */
export function matmul(a: Variable, b: Variable, options: MatmulOptions = {}): Variable {
  const { transA = false, transB = false, bias } = options;
  const out = T.matmul(dataOf('matmul', 'a', a), dataOf('matmul', 'b', b), {
    transA,
    transB,
    bias: bias && dataOf('matmul', 'bias', bias),
  });
  return record('matmul', bias ? [a, b, bias] : [a, b], out, { transA, transB });
}
