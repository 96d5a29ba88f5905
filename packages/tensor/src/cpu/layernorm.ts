/**
 * Reference layer norm over the last axis (N rows of C channels), llm.c style: the forward
 * writes its caches (mean, rstd), the backward reads them.
 */
import type { LayerNormArgs, LayerNormBackwardArgs } from '../backend.js';
import { dataOf } from './storage.js';

export function layerNorm({ x, weight, bias, out, mean, rstd, N, C, eps }: LayerNormArgs): void {
  const x_ = dataOf(x),
    w = dataOf(weight),
    b = dataOf(bias),
    o = dataOf(out),
    m_ = dataOf(mean),
    r_ = dataOf(rstd);
  for (let n = 0; n < N; n++) {
    const base = x.offset + n * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += x_[base + c]!;
    m /= C;
    let variance = 0; // biased, as PyTorch's LayerNorm
    for (let c = 0; c < C; c++) variance += (x_[base + c]! - m) ** 2;
    variance /= C;
    const s = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < C; c++) {
      o[out.offset + n * C + c] = (x_[base + c]! - m) * s * w[weight.offset + c]! + b[bias.offset + c]!;
    }
    m_[mean.offset + n] = m;
    r_[rstd.offset + n] = s;
  }
}

export function layerNormBackward({
  dy,
  x,
  weight,
  mean,
  rstd,
  dx,
  dweight,
  dbias,
  N,
  C,
}: LayerNormBackwardArgs): void {
  const dy_ = dataOf(dy),
    x_ = dataOf(x),
    w = dataOf(weight),
    m_ = dataOf(mean),
    r_ = dataOf(rstd);
  const dx_ = dataOf(dx),
    dw = dataOf(dweight),
    db = dataOf(dbias);
  const dwAcc = new Float64Array(C);
  const dbAcc = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const m = m_[mean.offset + n]!;
    const s = r_[rstd.offset + n]!;
    // dxhat = dy * w; dx = s * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
    let meanDxhat = 0;
    let meanDxhatXhat = 0;
    for (let c = 0; c < C; c++) {
      const xhat = (x_[x.offset + n * C + c]! - m) * s;
      const g = dy_[dy.offset + n * C + c]!;
      const dxhat = g * w[weight.offset + c]!;
      meanDxhat += dxhat;
      meanDxhatXhat += dxhat * xhat;
      dwAcc[c]! += g * xhat;
      dbAcc[c]! += g;
    }
    meanDxhat /= C;
    meanDxhatXhat /= C;
    for (let c = 0; c < C; c++) {
      const xhat = (x_[x.offset + n * C + c]! - m) * s;
      const dxhat = dy_[dy.offset + n * C + c]! * w[weight.offset + c]!;
      dx_[dx.offset + n * C + c] = s * (dxhat - meanDxhat - xhat * meanDxhatXhat);
    }
  }
  for (let c = 0; c < C; c++) {
    dw[dweight.offset + c] = dwAcc[c]!;
    db[dbias.offset + c] = dbAcc[c]!;
  }
}
