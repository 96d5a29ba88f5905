/**
 * The layer ops: softmax (optionally causal), fused attention, layer norm, embedding, fused cross-entropy and
 * dropout. Each forward keeps what its backward kernel needs (mean/rstd, logsumexp/count, the
 * mask); the rules are in ../registry.ts. Caches are freed after the backward runs.
 */
import * as T from '@mini/tensor';
import { type Variable, dataOf, nonDifferentiable, record } from '../variable.js';
import { add } from './elementwise.js';

/** Softmax over the last axis (`causal`: each row masked to the keys it may see). */
export function softmax(x: Variable, options: T.SoftmaxOptions = {}): Variable {
  return record('softmax', [x], T.softmax(dataOf('softmax', 'x', x), options), {});
}

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** Default true: query i sees keys j <= i + Tk - Tq. */
  causal?: boolean;
  /** Default 1 / sqrt(hd). */
  scale?: number;
  /** Dropout probability on the attention weights (0: none). */
  dropout?: number;
  /** Draws the dropout mask (one stream, as `dropout` after `softmax` would take; a TorchGenerator draws the whole mask). */
  generator?: T.Generator | T.TorchGenerator;
}

/**
 * Fused causal attention (see @mini/tensor's attention): q (B, nh, Tq, hd), k and v
 * (B, nh, Tk, hd) -> (B, nh, Tq, hd). Equals softmax(scale q k^T, causal) -> dropout -> @ v, with
 * the same dropout mask drawn from the same generator, without the (B, nh, Tq, Tk) weights.
 */
export function attention(q: Variable, k: Variable, v: Variable, options: AttentionOptions = {}): Variable {
  const p = options.dropout ?? 0;
  const size = q.shape.slice(0, -1).reduce((a, b) => a * b, 1) * k.shape[k.shape.length - 2]!; // B nh Tq Tk
  const dropout = p > 0 ? T.drawDropoutMask(p, options.generator, size) : null;
  const tensorOptions: T.AttentionOptions = { causal: options.causal, scale: options.scale, dropout };
  const { out, lse } = T.attention(
    dataOf('attention', 'q', q),
    dataOf('attention', 'k', k),
    dataOf('attention', 'v', v),
    tensorOptions,
  );
  return record('attention', [q, k, v], out, { lse, options: tensorOptions }, [lse]);
}

/**
 * Fused attention straight from the fused projection qkv (B, T, 3 C), C = nh hd, laid out
 * [q | k | v] (GPT-2's c_attn): the same as `attention` on the three (B, nh, T, hd) heads that
 * slicing, reshaping and permuting qkv give -> (B, nh, T, hd), without copying them out, and
 * its backward writes dq, dk and dv straight into one (B, T, 3 C) gradient (no zero-filled
 * slice gradients added up). Throws ShapeError when 3 nh does not divide qkv's last axis.
 */
export function attentionQKV(qkv: Variable, nh: number, options: AttentionOptions = {}): Variable {
  const [q, k, v] = T.qkvHeads(dataOf('qkvHeads', 'qkv', qkv), nh);
  try {
    const p = options.dropout ?? 0;
    const size = q.shape.slice(0, -1).reduce((a, b) => a * b, 1) * k.shape[2]!; // B nh Tq Tk
    const dropout = p > 0 ? T.drawDropoutMask(p, options.generator, size) : null;
    const tensorOptions: T.AttentionOptions = { causal: options.causal, scale: options.scale, dropout };
    const { out, lse } = T.attention(q, k, v, tensorOptions);
    return record('attentionQKV', [qkv], out, { lse, nh, options: tensorOptions }, [lse]);
  } finally {
    for (const t of [q, k, v]) t.dispose();
  }
}

/**
 * Layer norm over the last axis C: (x - mean) / sqrt(var + eps) * weight + bias, with weight and
 * bias of shape (C); the biased variance, as PyTorch's LayerNorm.
 */
export function layerNorm(x: Variable, weight: Variable, bias: Variable, eps = 1e-5): Variable {
  const { out, mean, rstd } = T.layerNorm(
    dataOf('layerNorm', 'x', x),
    dataOf('layerNorm', 'weight', weight),
    dataOf('layerNorm', 'bias', bias),
    eps,
  );
  return record('layerNorm', [x, weight, bias], out, { mean, rstd }, [mean, rstd]);
}

/** Rows of `table` (V, C) at `ids` (int32, not differentiable). */
export function embedding(table: Variable, ids: T.Tensor): Variable {
  return record('embedding', [table], T.embedding(dataOf('embedding', 'table', table), ids), {
    ids,
    vocab: table.shape[0]!,
  });
}

/** Mean cross-entropy of logits (..., V) against int32 targets (...), skipping ignoreIndex. */
export function crossEntropy(logits: Variable, targets: T.Tensor, ignoreIndex = T.IGNORE_INDEX): Variable {
  const { loss, logsumexp, count } = T.crossEntropy(dataOf('crossEntropy', 'logits', logits), targets, ignoreIndex);
  return record('crossEntropy', [logits], loss, { targets, logsumexp, count, ignoreIndex }, [logsumexp, count]);
}

/** Inverted dropout with probability p; the backward reuses the forward's mask (same stream). */
export function dropout(x: Variable, p: number, generator?: T.Generator | T.TorchGenerator): Variable {
  if (p === 0) return x;
  const { out, mask } = T.dropout(dataOf('dropout', 'x', x), p, generator);
  return record('dropout', [x], out, { mask });
}

/**
 * residual + dropout(x, p) in one kernel (a residual add after dropout), drawing the mask that
 * `dropout` would; p = 0 is a plain add.
 */
export function residualDropout(residual: Variable, x: Variable, p: number, generator?: T.Generator): Variable {
  if (p === 0) return add(residual, x);
  const { out, mask } = T.residualDropout(
    dataOf('residualDropout', 'residual', residual),
    dataOf('residualDropout', 'x', x),
    p,
    generator,
  );
  return record('residualDropout', [residual, x], out, { mask });
}

/** 1 where a == b, else 0; not differentiable. */
export const eq = (a: Variable, b: Variable): Variable =>
  nonDifferentiable('eq', T.eq(dataOf('eq', 'a', a), dataOf('eq', 'b', b)));
/** 1 where a < b, else 0; not differentiable. */
export const lt = (a: Variable, b: Variable): Variable =>
  nonDifferentiable('lt', T.lt(dataOf('lt', 'a', a), dataOf('lt', 'b', b)));
/** 1 where a > b, else 0; not differentiable. */
export const gt = (a: Variable, b: Variable): Variable =>
  nonDifferentiable('gt', T.gt(dataOf('gt', 'a', a), dataOf('gt', 'b', b)));
/** -1, 0 or 1 elementwise; not differentiable. */
export const sign = (x: Variable): Variable => nonDifferentiable('sign', T.sign(dataOf('sign', 'x', x)));
