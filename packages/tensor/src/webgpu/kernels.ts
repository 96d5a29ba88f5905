/** The WebGPU kernel table: every entry of `Kernels`, bound to one backend. */
import type { Kernels } from '../backend.js';
import type { WebGPUBackend } from './backend.js';
import { adamw, dropout } from './dropout.js';
import { binary, copy, fill, unary } from './elementwise.js';
import { gather, scatterAdd } from './embedding.js';
import { matmul } from './matmul.js';
import { crossEntropy, crossEntropyBackward, layerNorm, layerNormBackward, reduce, softmax, softmaxBackward } from './rows.js';

export function webgpuKernels(ctx: WebGPUBackend): Kernels {
  return {
    copy: (x, out) => copy(ctx, x, out),
    fill: (out, value) => fill(ctx, out, value),
    unary: (op, x, out, scalar) => unary(ctx, op, x, out, scalar),
    binary: (op, a, b, out) => binary(ctx, op, a, b, out),
    matmul: (args) => matmul(ctx, args),
    reduce: (op, x, outer, R, inner, out) => reduce(ctx, op, x, outer, R, inner, out),
    softmax: (x, out, rows, n, causal) => softmax(ctx, x, out, rows, n, causal),
    softmaxBackward: (y, dy, dx, rows, n) => softmaxBackward(ctx, y, dy, dx, rows, n),
    layerNorm: (x, w, b, out, mean, rstd, N, C, eps) => layerNorm(ctx, x, w, b, out, mean, rstd, N, C, eps),
    layerNormBackward: (dy, x, w, mean, rstd, dx, dw, db, N, C) => layerNormBackward(ctx, dy, x, w, mean, rstd, dx, dw, db, N, C),
    gather: (table, ids, out, N, V, C) => gather(ctx, table, ids, out, N, V, C),
    scatterAdd: (dout, ids, dtable, N, V, C) => scatterAdd(ctx, dout, ids, dtable, N, V, C),
    crossEntropy: (logits, targets, loss, lse, count, N, V, ignore) => crossEntropy(ctx, logits, targets, loss, lse, count, N, V, ignore),
    crossEntropyBackward: (logits, targets, lse, count, dloss, dlogits, N, V, ignore) =>
      crossEntropyBackward(ctx, logits, targets, lse, count, dloss, dlogits, N, V, ignore),
    dropout: (x, out, mask) => dropout(ctx, x, out, mask),
    adamw: (param, grad, m, v, step) => adamw(ctx, param, grad, m, v, step),
  };
}
