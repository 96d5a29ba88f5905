/**
 * The gradient-check table: for every differentiable op, one or more cases (input shapes,
 * including broadcasting and size-1 dimensions, and the expression). The CPU float64
 * finite-difference suite (test/autograd/gradcheck.test.ts) and the every-device suite
 * (test/devices/gradients.test.ts) both run every case.
 */
import * as A from '@mini/autograd';
import type { DifferentiableOp, Variable } from '@mini/autograd';
import * as T from '@mini/tensor';

/** normal: N(0, 1); positive: U(0.5, 2), for logs, roots, divisors and pow bases. */
export type Domain = 'normal' | 'positive';

export interface GradCase {
  name: string;
  inputs: Array<{ shape: number[]; domain?: Domain }>;
  fn: (x: Variable[], device: T.Device) => Variable;
  /** A device vs the CPU reference in float32, when an op needs more than the default. */
  parity?: { atol: number; rtol: number };
}

const ids = (values: number[], shape: number[], device: T.Device) =>
  T.tensor(values, { dtype: 'int32', shape, device });
const one = (name: string, shape: number[], fn: (x: Variable) => Variable, domain: Domain = 'normal'): GradCase => ({
  name,
  inputs: [{ shape, domain }],
  fn: ([x]) => fn(x!),
});
const two = (
  name: string,
  sa: number[],
  sb: number[],
  fn: (a: Variable, b: Variable) => Variable,
  da: Domain = 'normal',
  db: Domain = 'normal',
): GradCase => ({
  name,
  inputs: [
    { shape: sa, domain: da },
    { shape: sb, domain: db },
  ],
  fn: ([a, b]) => fn(a!, b!),
});

/** q (B, nh, Tq, hd) with k and v of one shape (B, nh, Tk, hd). */
const three = (
  name: string,
  sq: number[],
  skv: number[],
  fn: (q: Variable, k: Variable, v: Variable) => Variable,
): GradCase => ({ name, inputs: [{ shape: sq }, { shape: skv }, { shape: skv }], fn: ([q, k, v]) => fn(q!, k!, v!) });

export const gradCases: Record<DifferentiableOp, GradCase[]> = {
  add: [
    two('add broadcast', [3, 4], [4], A.add),
    two('add both broadcast', [2, 1, 3], [1, 5, 1], A.add),
    two('add scalars', [1], [1], A.add),
  ],
  sub: [two('sub broadcast', [3, 4], [3, 1], A.sub)],
  mul: [two('mul broadcast', [3, 4], [1, 4], A.mul), two('mul same shape', [5], [5], A.mul)],
  div: [two('div broadcast', [3, 4], [4], A.div, 'normal', 'positive')],
  pow: [two('pow', [3, 4], [4], A.pow, 'positive', 'normal')],
  maximum: [two('maximum broadcast', [3, 4], [4], A.maximum)],
  minimum: [two('minimum broadcast', [3, 4], [4], A.minimum)],
  neg: [one('neg', [2, 3], A.neg)],
  exp: [one('exp', [2, 3, 5], A.exp), one('exp size 1', [1], A.exp)],
  log: [one('log', [4, 5], A.log, 'positive')],
  sqrt: [one('sqrt', [4, 5], A.sqrt, 'positive')],
  rsqrt: [one('rsqrt', [4, 5], A.rsqrt, 'positive')],
  tanh: [one('tanh', [2, 3, 5], A.tanh)],
  abs: [one('abs', [3, 5], A.abs)],
  relu: [one('relu', [3, 5], A.relu)],
  gelu: [one('gelu', [2, 3, 5], (x) => A.gelu(A.mulScalar(x, 2)))],
  square: [one('square', [3, 5], A.square)],
  addScalar: [one('addScalar', [3, 5], (x) => A.addScalar(x, 0.75))],
  mulScalar: [one('mulScalar', [3, 5], (x) => A.mulScalar(x, -1.5))],
  powScalar: [
    one('powScalar 2.5', [3, 5], (x) => A.powScalar(x, 2.5), 'positive'),
    one('powScalar 3 of any sign', [4], (x) => A.powScalar(x, 3)),
  ],
  rsubScalar: [one('rsubScalar', [3, 5], (x) => A.rsubScalar(2, x))],
  rdivScalar: [one('rdivScalar', [3, 5], (x) => A.rdivScalar(2, x), 'positive')],
  maxScalar: [one('maxScalar', [3, 5], (x) => A.maxScalar(x, 0.1))],
  minScalar: [one('minScalar', [3, 5], (x) => A.minScalar(x, 0.1))],
  matmul: [
    two('matmul', [4, 3], [3, 5], (a, b) => A.matmul(a, b)),
    two('matmul transA transB', [3, 4], [5, 3], (a, b) => A.matmul(a, b, { transA: true, transB: true })),
    two('matmul 1x1', [1, 1], [1, 1], (a, b) => A.matmul(a, b)),
    two('matmul broadcast batch', [2, 1, 3, 4], [3, 4, 2], (a, b) => A.matmul(a, b)),
    {
      name: 'matmul + bias (linear layer)',
      inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4] }, { shape: [5] }],
      fn: ([x, w, b]) => A.matmul(x!, w!, { transB: true, bias: b! }),
    },
    {
      // A weight stored (in, out): the bias gradient comes from the weight gradient's product.
      name: 'matmul + bias, weight (in, out): bias gradient with the weight gradient',
      inputs: [{ shape: [2, 3, 4] }, { shape: [4, 6] }, { shape: [6] }],
      fn: ([x, w, b]) => A.matmul(x!, w!, { bias: b! }),
    },
  ],
  sum: [
    one('sum axis 1', [3, 4, 5], (x) => A.sum(x, 1)),
    one('sum all', [3, 4], (x) => A.sum(x)),
    one('sum axes 0,2 keepDims', [3, 4, 5], (x) => A.sum(x, [0, 2], { keepDims: true })),
  ],
  mean: [one('mean axis -1', [3, 4, 5], (x) => A.mean(x, -1)), one('mean all', [2, 3], (x) => A.mean(x))],
  max: [
    one('max axis 1', [3, 4], (x) => A.max(x, 1)),
    one('max all keepDims', [2, 3], (x) => A.max(x, undefined, { keepDims: true })),
  ],
  softmax: [
    one('softmax', [2, 5], (x) => A.softmax(x)),
    one('softmax causal', [2, 3, 4, 4], (x) => A.softmax(x, { causal: true })),
    one('softmax causal with a KV-cache offset', [2, 3, 5], (x) => A.softmax(x, { causal: true })),
  ],
  attention: [
    three('attention causal', [1, 2, 3, 4], [1, 2, 3, 4], (q, k, v) => A.attention(q, k, v)),
    three('attention KV-cache offset, hd 3', [2, 1, 2, 3], [2, 1, 5, 3], (q, k, v) => A.attention(q, k, v)),
    three('attention not causal, one query', [1, 1, 1, 5], [1, 1, 4, 5], (q, k, v) =>
      A.attention(q, k, v, { causal: false }),
    ),
    three('attention dropout p=0.3', [1, 2, 5, 4], [1, 2, 5, 4], (q, k, v) =>
      A.attention(q, k, v, { dropout: 0.3, generator: new T.Generator(5) }),
    ),
  ],
  // qkv (B, T, 3 nh hd): heads 1 and 2, T 1 and 5, hd 3 (odd), with and without dropout.
  attentionQKV: [
    one('attentionQKV 2 heads, T 5, hd 3', [1, 5, 18], (x) => A.attentionQKV(x, 2)),
    one('attentionQKV one token, 1 head', [2, 1, 12], (x) => A.attentionQKV(x, 1)),
    one('attentionQKV dropout p=0.3', [1, 4, 24], (x) =>
      A.attentionQKV(x, 2, { dropout: 0.3, generator: new T.Generator(5) }),
    ),
  ],
  layerNorm: [
    {
      name: 'layerNorm',
      inputs: [{ shape: [3, 6] }, { shape: [6] }, { shape: [6] }],
      fn: ([x, w, b]) => A.layerNorm(x!, w!, b!),
    },
    {
      name: 'layerNorm batched',
      inputs: [{ shape: [2, 1, 7] }, { shape: [7] }, { shape: [7] }],
      fn: ([x, w, b]) => A.layerNorm(x!, w!, b!),
    },
    {
      // x's gradient from the residual is gathered first and added in the layer norm's backward.
      name: 'residual around a layerNorm',
      inputs: [{ shape: [3, 5] }, { shape: [5] }, { shape: [5] }],
      fn: ([x, w, b]) => A.add(x!, A.layerNorm(x!, w!, b!)),
    },
  ],
  embedding: [
    {
      name: 'embedding with repeated ids',
      inputs: [{ shape: [6, 4] }],
      fn: ([t], device) => A.embedding(t!, ids([5, 0, 5, 2, 5, 0], [2, 3], device)),
    },
  ],
  crossEntropy: [
    {
      name: 'crossEntropy with an ignored target',
      inputs: [{ shape: [4, 7] }],
      fn: ([l], device) => A.crossEntropy(l!, ids([3, -100, 0, 6], [4], device)),
    },
    {
      name: 'crossEntropy on (B, T, V)',
      inputs: [{ shape: [2, 3, 5] }],
      fn: ([l], device) => A.crossEntropy(l!, ids([0, 1, 2, 3, 4, 4], [2, 3], device)),
    },
  ],
  dropout: [one('dropout p=0.3', [4, 5], (x) => A.dropout(x, 0.3, new T.Generator(5)))],
  residualDropout: [
    two('residual + dropout p=0.3', [3, 7], [3, 7], (r, x) => A.residualDropout(r, x, 0.3, new T.Generator(5))),
  ],
  reshape: [one('reshape', [3, 4], (x) => A.reshape(x, [2, 6]))],
  permute: [one('permute', [2, 3, 4], (x) => A.permute(x, [2, 0, 1])), one('transpose', [3, 4], (x) => A.transpose(x))],
  slice: [one('slice', [4, 5], (x) => A.slice(x, 1, 1, 4)), one('slice last rows', [4, 5], (x) => A.slice(x, 0, -2))],
  expand: [
    one('expand', [3, 1], (x) => A.expand(x, [2, 3, 4])),
    one('unsqueeze then expand', [3], (x) => A.expand(A.unsqueeze(x, 0), [2, 3])),
  ],
  contiguous: [one('contiguous of a transpose', [3, 4], (x) => A.contiguous(A.transpose(x)))],
};

/** Values for an input of the case, from `g`. */
export function inputValues(g: T.Generator, shape: number[], domain: Domain = 'normal'): Float64Array {
  const n = shape.reduce((p, d) => p * d, 1);
  return domain === 'positive' ? g.uniform(n, 0.5, 2) : g.normal(n);
}

/** A case run in float32 on `device`: its output, and its inputs' gradients for a fixed upstream gradient (seed 23). */
export async function float32Run(
  c: GradCase,
  device: T.Device,
): Promise<{ output: Float32Array; grads: Float32Array[] }> {
  const g = new T.Generator(23);
  const values = c.inputs.map((s) => Float32Array.from(inputValues(g, s.shape, s.domain)));
  const [output, ...grads] = T.tidy(() => {
    const vars = values.map((v, i) => A.parameter(T.tensor(v, { shape: c.inputs[i]!.shape, device })));
    const y = c.fn(vars, device);
    const R = T.tensor(Float32Array.from(g.normal(y.data.size)), { shape: y.shape, device });
    y.backward(R);
    return [y.data, ...vars.map((v) => v.grad!)];
  });
  const arrays = await Promise.all([output!, ...grads].map((t) => t.toArray() as Promise<Float32Array>));
  for (const t of [output!, ...grads]) t.dispose();
  return { output: arrays[0]!, grads: arrays.slice(1) };
}
