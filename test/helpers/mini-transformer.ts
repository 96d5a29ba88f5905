/**
 * A 2-layer, 2-head GPT-style transformer built directly from autograd ops, for the composite
 * gradient checks. B = batch, T = tokens, C = channels, V = vocab, nh = heads, hs = C / nh.
 */
import * as A from '@mini/autograd';
import type { Variable } from '@mini/autograd';
import * as T from '@mini/tensor';

export const dims = { B: 2, T: 5, C: 8, V: 11, nh: 2, layers: 2 };

/** Parameter shapes, by name (nn.Linear layout: weight (out, in)). */
export function parameterShapes(): Record<string, number[]> {
  const { C, V, T: Tn, layers } = dims;
  const shapes: Record<string, number[]> = { wte: [V, C], wpe: [Tn, C], 'lnf.w': [C], 'lnf.b': [C], head: [V, C] };
  for (let l = 0; l < layers; l++) {
    Object.assign(shapes, {
      [`h${l}.ln1.w`]: [C], [`h${l}.ln1.b`]: [C], [`h${l}.qkv.w`]: [3 * C, C], [`h${l}.qkv.b`]: [3 * C],
      [`h${l}.proj.w`]: [C, C], [`h${l}.proj.b`]: [C], [`h${l}.ln2.w`]: [C], [`h${l}.ln2.b`]: [C],
      [`h${l}.fc.w`]: [4 * C, C], [`h${l}.fc.b`]: [4 * C], [`h${l}.fcproj.w`]: [C, 4 * C], [`h${l}.fcproj.b`]: [C],
    });
  }
  return shapes;
}

/** Deterministic parameter values: layer norms near (1, 0), weights N(0, 0.3). */
export function parameterValues(seed: number): Record<string, Float64Array> {
  const g = new T.Generator(seed);
  const out: Record<string, Float64Array> = {};
  for (const [name, shape] of Object.entries(parameterShapes())) {
    const n = shape.reduce((p, d) => p * d, 1);
    out[name] = name.endsWith('.w') && name.includes('ln') ? g.normal(n, 1, 0.1) : g.normal(n, 0, 0.3);
  }
  return out;
}

export const tokens = [[3, 7, 1, 0, 10], [5, 5, 2, 9, 4]];
export const targets = [[7, 1, 0, 10, 2], [5, 2, 9, 4, -100]];

function attention(x: Variable, p: Record<string, Variable>, l: number): Variable {
  const { B, T: Tn, C, nh } = dims;
  const hs = C / nh;
  const qkv = A.matmul(x, p[`h${l}.qkv.w`]!, { transB: true, bias: p[`h${l}.qkv.b`]! }); // (B, T, 3C)
  const heads = (i: number) => A.permute(A.reshape(A.slice(qkv, -1, i * C, (i + 1) * C), [B, Tn, nh, hs]), [0, 2, 1, 3]); // (B, nh, T, hs)
  const [q, k, v] = [heads(0), heads(1), heads(2)];
  const scores = A.mulScalar(A.matmul(q, k, { transB: true }), 1 / Math.sqrt(hs)); // (B, nh, T, T)
  const weights = A.softmax(scores, { causal: true });
  const y = A.reshape(A.permute(A.matmul(weights, v), [0, 2, 1, 3]), [B, Tn, C]); // (B, T, C)
  return A.matmul(y, p[`h${l}.proj.w`]!, { transB: true, bias: p[`h${l}.proj.b`]! });
}

/** Mean cross-entropy of the model on (tokens, targets). */
export function loss(p: Record<string, Variable>, device: T.Device): Variable {
  const { T: Tn, layers } = dims;
  const ids = T.tensor(tokens.flat(), { dtype: 'int32', shape: [2, Tn], device });
  const positions = T.arange(0, Tn, 1, { device });
  let x = A.add(A.embedding(p.wte!, ids), A.embedding(p.wpe!, positions)); // (B, T, C)
  for (let l = 0; l < layers; l++) {
    x = A.add(x, attention(A.layerNorm(x, p[`h${l}.ln1.w`]!, p[`h${l}.ln1.b`]!), p, l));
    const h = A.gelu(A.matmul(A.layerNorm(x, p[`h${l}.ln2.w`]!, p[`h${l}.ln2.b`]!), p[`h${l}.fc.w`]!, { transB: true, bias: p[`h${l}.fc.b`]! }));
    x = A.add(x, A.matmul(h, p[`h${l}.fcproj.w`]!, { transB: true, bias: p[`h${l}.fcproj.b`]! }));
  }
  const logits = A.matmul(A.layerNorm(x, p['lnf.w']!, p['lnf.b']!), p.head!, { transB: true }); // (B, T, V)
  return A.crossEntropy(logits, T.tensor(targets.flat(), { dtype: 'int32', shape: [2, Tn], device }));
}
