/** The WebGPU kernel table: every entry of `Kernels`, bound to one backend. */
import type { Kernels } from '../backend.js';
import type { WebGPUBackend } from './backend.js';
import { isHalf } from '../dtype.js';
import { adamw, adamwMany } from './adamw.js';
import { attention, attentionBackward } from './attention.js';
import { convert } from './half.js';
import { decodeAttention, decodeLinear } from './decode.js';
import { dropout } from './dropout.js';
import { binary, copy, fill, unary } from './elementwise.js';
import { gather, scatterAdd } from './embedding.js';
import { matmul } from './matmul.js';
import { matmulQuantized } from './matmul-quantized.js';
import { crossEntropy, crossEntropyBackward } from './cross-entropy.js';
import { layerNorm, layerNormBackward } from './layernorm.js';
import { reduce } from './reduce.js';
import { softmax, softmaxBackward } from './softmax.js';
import { topKCandidates } from './top-k.js';

export function webgpuKernels(ctx: WebGPUBackend): Kernels {
  return {
    copy: (x, out) => (isHalf(x.dtype) ? convert(ctx, x, out) : copy(ctx, x, out)),
    cast: (x, out) => convert(ctx, x, out),
    fill: (out, value) => fill(ctx, out, value),
    unary: (op, x, out, scalar) => unary(ctx, op, x, out, scalar),
    binary: (op, a, b, out) => binary(ctx, op, a, b, out),
    gelu: (x, out) => unary(ctx, 'gelu', x, out, 0),
    geluBackward: (x, dy, dx) => binary(ctx, 'gelu_backward', x, dy, dx),
    matmul: (args) => matmul(ctx, args),
    matmulQuantized: (args) => matmulQuantized(ctx, args),
    decodeLinear: (args) => decodeLinear(ctx, args),
    decodeAttention: (args) => decodeAttention(ctx, args),
    reduce: (op, x, outer, R, inner, out) => reduce(ctx, op, x, outer, R, inner, out),
    topKCandidates: (x, out, rows, n, k, capacity) => topKCandidates(ctx, x, out, rows, n, k, capacity),
    softmax: (x, out, rows, n, causal) => softmax(ctx, x, out, rows, n, causal),
    softmaxBackward: (y, dy, dx, rows, n) => softmaxBackward(ctx, y, dy, dx, rows, n),
    attention: (args) => attention(ctx, args),
    attentionBackward: (args) => attentionBackward(ctx, args),
    layerNorm: (args) => layerNorm(ctx, args),
    layerNormBackward: (args) => layerNormBackward(ctx, args),
    gather: (args) => gather(ctx, args),
    scatterAdd: (args) => scatterAdd(ctx, args),
    crossEntropy: (args) => crossEntropy(ctx, args),
    crossEntropyBackward: (args) => crossEntropyBackward(ctx, args),
    dropout: (x, out, mask, residual) => dropout(ctx, x, out, mask, residual),
    adamw: (param, grad, m, v, step) => adamw(ctx, param, grad, m, v, step),
    adamwMany: (entries, step) => adamwMany(ctx, entries, step),
  };
}
