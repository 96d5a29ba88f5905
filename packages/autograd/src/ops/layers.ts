/**
 * The layer ops, forward beside backward: softmax (optionally causal), layer norm, embedding,
 * fused cross-entropy and dropout. Each backward calls the matching backward kernel of
 * @mini/tensor; caches made by the forward (mean/rstd, logsumexp/count) are freed after use.
 */
import * as T from '@mini/tensor';
import { type Variable, nonDifferentiable, record } from '../variable.js';

export function softmax(x: Variable, options: T.SoftmaxOptions = {}): Variable {
  const y = T.softmax(x.data, options);
  // Masked entries have y = 0, so their gradient is 0 too.
  return record('softmax', [x], y, (g) => [T.softmaxBackward(y, g)]);
}

export function layerNorm(x: Variable, weight: Variable, bias: Variable, eps = 1e-5): Variable {
  const { out, mean, rstd } = T.layerNorm(x.data, weight.data, bias.data, eps);
  return record('layerNorm', [x, weight, bias], out, (g) => {
    const { dx, dweight, dbias } = T.layerNormBackward(g, x.data, weight.data, mean, rstd);
    return [dx, dweight, dbias];
  }, [mean, rstd]);
}

/** Rows of `table` (V, C) at `ids` (int32, not differentiable). */
export function embedding(table: Variable, ids: T.Tensor): Variable {
  const out = T.embedding(table.data, ids);
  return record('embedding', [table], out, (g) => [T.embeddingBackward(g, ids, table.shape[0]!)]);
}

/** Mean cross-entropy of logits (..., V) against int32 targets (...), skipping ignoreIndex. */
export function crossEntropy(logits: Variable, targets: T.Tensor, ignoreIndex = T.IGNORE_INDEX): Variable {
  const { loss, logsumexp, count } = T.crossEntropy(logits.data, targets, ignoreIndex);
  return record('crossEntropy', [logits], loss, (g) => [T.crossEntropyBackward(logits.data, targets, { logsumexp, count }, g, ignoreIndex)], [logsumexp, count]);
}

/** Inverted dropout with probability p; the backward reuses the forward's mask (same stream). */
export function dropout(x: Variable, p: number, generator?: T.Generator): Variable {
  if (p === 0) return x;
  const { out, mask } = T.dropout(x.data, p, generator);
  return record('dropout', [x], out, (g) => [T.applyDropoutMask(g, mask)]);
}

export const eq = (a: Variable, b: Variable): Variable => nonDifferentiable('eq', T.eq(a.data, b.data));
export const lt = (a: Variable, b: Variable): Variable => nonDifferentiable('lt', T.lt(a.data, b.data));
export const gt = (a: Variable, b: Variable): Variable => nonDifferentiable('gt', T.gt(a.data, b.data));
export const sign = (x: Variable): Variable => nonDifferentiable('sign', T.sign(x.data));
