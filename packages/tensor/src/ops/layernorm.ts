/** Layer norm over the last axis (C channels), returning its caches for the backward. */
import { type Tensor, empty } from '../tensor.js';
import { assertFloat, assertRankAtLeast, assertShape, withContiguous } from './util.js';

export interface LayerNormResult {
  out: Tensor; // (..., C)
  mean: Tensor; // (...)
  rstd: Tensor; // (...), 1 / sqrt(var + eps), biased variance as PyTorch
}

export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): LayerNormResult {
  assertFloat('layerNorm', x, weight, bias);
  assertRankAtLeast('layerNorm', 'input', x, 1);
  const C = x.shape[x.rank - 1]!;
  assertShape('layerNorm', 'weight', weight, [C]);
  assertShape('layerNorm', 'bias', bias, [C]);
  const N = x.size / Math.max(C, 1);
  const rowsShape = x.shape.slice(0, -1);
  const out = empty(x.shape, x.dtype, x.device);
  const mean = empty(rowsShape, x.dtype, x.device);
  const rstd = empty(rowsShape, x.dtype, x.device);
  if (x.size > 0) {
    withContiguous([x, weight, bias], (cx, cw, cb) =>
      x.device.backend.kernels.layerNorm({ x: cx!, weight: cw!, bias: cb!, out, mean, rstd, N, C, eps }),
    );
  }
  return { out, mean, rstd };
}

export interface LayerNormGrads {
  dx: Tensor;
  dweight: Tensor;
  dbias: Tensor;
}

export function layerNormBackward(dy: Tensor, x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor): LayerNormGrads {
  assertFloat('layerNormBackward', dy, x, weight, mean, rstd);
  assertShape('layerNormBackward', 'dy', dy, x.shape);
  const C = x.shape[x.rank - 1]!;
  const N = x.size / Math.max(C, 1);
  const dx = empty(x.shape, x.dtype, x.device);
  const dweight = empty([C], x.dtype, x.device);
  const dbias = empty([C], x.dtype, x.device);
  if (N === 0) {
    x.device.backend.kernels.fill(dweight, 0);
    x.device.backend.kernels.fill(dbias, 0);
  } else {
    withContiguous([dy, x, weight, mean, rstd], (cdy, cx, cw, cm, cr) =>
      x.device.backend.kernels.layerNormBackward({
        dy: cdy!,
        x: cx!,
        weight: cw!,
        mean: cm!,
        rstd: cr!,
        dx,
        dweight,
        dbias,
        N,
        C,
      }),
    );
  }
  return { dx, dweight, dbias };
}
