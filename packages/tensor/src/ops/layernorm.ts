/** Layer norm over the last axis (C channels), returning its caches for the backward. */
import { ValueError } from '../errors.js';
import { type Tensor, empty } from '../tensor.js';
import { assertFloat, assertRankAtLeast, assertShape, withContiguous } from './util.js';

/**
 * eps, added to the variance under the square root: a finite number >= 0 (PyTorch takes any
 * float; a negative or NaN one turns rows into NaN without a word).
 * @throws ValueError naming `op` and the value
 */
export function checkEps(op: string, eps: number): void {
  if (!(typeof eps === 'number' && Number.isFinite(eps) && eps >= 0))
    throw new ValueError(`${op}: eps must be a finite number >= 0, got ${String(eps)}`);
}

export interface LayerNormResult {
  out: Tensor; // (..., C)
  mean: Tensor; // (...)
  rstd: Tensor; // (...), 1 / sqrt(var + eps), biased variance as PyTorch
}

/**
 * y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis (biased variance, as
 * PyTorch's layer_norm), with the mean and rstd the backward reads. x (..., C), weight and bias
 * (C); float32 or 16-bit. Throws ShapeError or DTypeError for other inputs, ValueError for an eps
 * that is not a finite number >= 0.
 */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): LayerNormResult {
  checkEps('layerNorm', eps);
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

/** Options of {@link layerNormBackward}. */
export interface LayerNormBackwardOptions {
  /**
   * x's shape and dtype: dx comes out as accumulate + the layer norm's dx, the same bits as
   * add(accumulate, dx), in the backward's own kernel on WebGPU (one dispatch fewer where a
   * residual stream's two gradients meet). Not modified.
   */
  accumulate?: Tensor;
}

/**
 * The layer norm's gradients from dy (x's shape) and the forward's caches (mean, rstd: x's
 * shape without C): dx (x's shape), dweight and dbias (C), llm.c's layernorm_backward.
 * Throws ShapeError when dy or `accumulate` differ from x in shape, weight is not (C) or mean
 * or rstd is not x's shape without C (caches of another input).
 */
export function layerNormBackward(
  dy: Tensor,
  x: Tensor,
  weight: Tensor,
  mean: Tensor,
  rstd: Tensor,
  options: LayerNormBackwardOptions = {},
): LayerNormGrads {
  const { accumulate } = options;
  assertFloat('layerNormBackward', dy, x, weight, mean, rstd, ...(accumulate ? [accumulate] : []));
  assertRankAtLeast('layerNormBackward', 'x', x, 1);
  const C = x.shape[x.rank - 1]!;
  const rowsShape = x.shape.slice(0, -1);
  // The caches are read row by row with x's row count: a smaller one would be read past its end.
  assertShape('layerNormBackward', 'dy', dy, x.shape);
  assertShape('layerNormBackward', 'weight', weight, [C]);
  assertShape('layerNormBackward', 'mean', mean, rowsShape);
  assertShape('layerNormBackward', 'rstd', rstd, rowsShape);
  if (accumulate) assertShape('layerNormBackward', 'accumulate', accumulate, x.shape);
  const N = x.size / Math.max(C, 1);
  const dx = empty(x.shape, x.dtype, x.device);
  const dweight = empty([C], x.dtype, x.device);
  const dbias = empty([C], x.dtype, x.device);
  if (N === 0) {
    x.device.backend.kernels.fill(dweight, 0);
    x.device.backend.kernels.fill(dbias, 0);
  } else {
    withContiguous([dy, x, weight, mean, rstd, ...(accumulate ? [accumulate] : [])], (cdy, cx, cw, cm, cr, ca) =>
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
        accumulate: ca,
      }),
    );
  }
  return { dx, dweight, dbias };
}
