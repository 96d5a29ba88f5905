/** Matmul with optional transposes and bias; its backward (products with transpose flags) is in ../registry.ts. */
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
  return record('matmul', bias ? [a, b, bias] : [a, b], out, { transA, transB });
}
