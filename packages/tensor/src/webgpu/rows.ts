/**
 * WebGPU glue for the row kernels: softmax (and backward), layer norm (and backward),
 * cross-entropy (and backward), and reductions. Each processes whole rows, so work is split by
 * rows when a tensor exceeds one binding window.
 */
import type { CrossEntropyArgs, CrossEntropyBackwardArgs, LayerNormArgs, LayerNormBackwardArgs, ReduceOp, View } from '../backend.js';
import { DeviceError } from '../errors.js';
import type { WebGPUBackend } from './backend.js';
import { Uniforms } from './uniforms.js';

const WG = 256;
// Rows per dispatch of kernels that loop over rows in one invocation (llvmpipe's loop cap).
const MAX_LOOPED_ROWS = 16384;

/** [first row, row count] parts such that `rowElements` elements per row fit one window. */
export function rowParts(ctx: WebGPUBackend, rows: number, rowElements: number, cap = Infinity): Array<[number, number]> {
  const perPart = Math.min(cap, Math.floor(ctx.bindableElements / Math.max(1, rowElements)));
  if (perPart < 1) throw new DeviceError(`WebGPU: a row of ${rowElements} elements exceeds the storage binding limit (${ctx.maxBindingBytes} bytes)`);
  const parts: Array<[number, number]> = [];
  for (let r0 = 0; r0 < rows; r0 += perPart) parts.push([r0, Math.min(perPart, rows - r0)]);
  return parts;
}

/** Binds `rows` rows of `rowElements` elements of a contiguous view, from row `r0`. */
function bindRows(ctx: WebGPUBackend, v: View, r0: number, rows: number, rowElements: number) {
  return ctx.bind(v.storage, v.offset + r0 * rowElements, rows * rowElements);
}

export function softmax(ctx: WebGPUBackend, x: View, out: View, rows: number, n: number, causal: { tq: number; tk: number } | null): void {
  for (const [r0, count] of rowParts(ctx, rows, n)) {
    const xr = bindRows(ctx, x, r0, count, n);
    const or = bindRows(ctx, out, r0, count, n);
    const grid = ctx.grid(count);
    const u = new Uniforms().u32(count, n, xr.base, or.base, causal ? 1 : 0, causal?.tq ?? 1, causal?.tk ?? n, r0, grid[0]);
    ctx.dispatch('softmax', {}, u, [or.resource, xr.resource], grid);
  }
}

export function softmaxBackward(ctx: WebGPUBackend, y: View, dy: View, dx: View, rows: number, n: number): void {
  for (const [r0, count] of rowParts(ctx, rows, n)) {
    const [yr, dyr, dxr] = [y, dy, dx].map((v) => bindRows(ctx, v, r0, count, n));
    const grid = ctx.grid(count);
    const u = new Uniforms().u32(count, n, yr!.base, dyr!.base, dxr!.base, grid[0]);
    ctx.dispatch('softmax_backward', {}, u, [dxr!.resource, yr!.resource, dyr!.resource], grid);
  }
}

export function layerNorm(ctx: WebGPUBackend, { x, weight, bias, out, mean, rstd, N, C, eps }: LayerNormArgs): void {
  const w = ctx.bind(weight.storage, weight.offset, C);
  const b = ctx.bind(bias.storage, bias.offset, C);
  for (const [r0, count] of rowParts(ctx, N, C)) {
    const xr = bindRows(ctx, x, r0, count, C);
    const or = bindRows(ctx, out, r0, count, C);
    const mr = bindRows(ctx, mean, r0, count, 1);
    const sr = bindRows(ctx, rstd, r0, count, 1);
    if (mr.base !== sr.base) throw new DeviceError('WebGPU layerNorm: internal error: mean and rstd windows differ');
    const grid = ctx.grid(count);
    const u = new Uniforms().u32(count, C, xr.base, or.base, mr.base, w.base, b.base, grid[0]).f32(eps);
    ctx.dispatch('layernorm', {}, u, [or.resource, mr.resource, sr.resource, xr.resource, w.resource, b.resource], grid);
  }
}

export function layerNormBackward(ctx: WebGPUBackend, { dy, x, weight, mean, rstd, dx, dweight, dbias, N, C }: LayerNormBackwardArgs): void {
  const w = ctx.bind(weight.storage, weight.offset, C);
  const dw = ctx.bind(dweight.storage, dweight.offset, C);
  const db = ctx.bind(dbias.storage, dbias.offset, C);
  rowParts(ctx, N, C, MAX_LOOPED_ROWS).forEach(([r0, count], part) => {
    const [dyr, xr, dxr] = [dy, x, dx].map((v) => bindRows(ctx, v, r0, count, C));
    const mr = bindRows(ctx, mean, r0, count, 1);
    const sr = bindRows(ctx, rstd, r0, count, 1);
    const grid = ctx.grid(count);
    const u = new Uniforms().u32(count, C, dyr!.base, xr!.base, dxr!.base, mr.base, w.base, grid[0]);
    ctx.dispatch('layernorm_backward', {}, u, [dxr!.resource, dyr!.resource, xr!.resource, w.resource, mr.resource, sr.resource], grid);
    const up = new Uniforms().u32(count, C, dyr!.base, xr!.base, mr.base, dw.base, db.base);
    ctx.dispatch('layernorm_backward_params', { WG, ACCUMULATE: part > 0 }, up,
      [dw.resource, db.resource, dyr!.resource, xr!.resource, mr.resource, sr.resource], [Math.ceil(C / WG), 1, 1]);
  });
}

export function crossEntropy(ctx: WebGPUBackend, { logits, targets, loss, logsumexp, count, N, V, ignoreIndex }: CrossEntropyArgs): void {
  const rowLoss = ctx.scratch(N);
  const counted = ctx.scratch(N);
  for (const [r0, rows] of rowParts(ctx, N, V)) {
    const lr = bindRows(ctx, logits, r0, rows, V);
    const tr = bindRows(ctx, targets, r0, rows, 1);
    const sr = bindRows(ctx, logsumexp, r0, rows, 1);
    const rl = ctx.bind(rowLoss, r0, rows);
    const rc = ctx.bind(counted, r0, rows);
    if (sr.base !== r0 || rl.base !== r0 || rc.base !== r0) {
      throw new DeviceError('WebGPU crossEntropy: internal error: per-row outputs must not be windowed');
    }
    const grid = ctx.grid(rows);
    const u = new Uniforms().u32(rows, V, lr.base, tr.base, sr.base).i32(ignoreIndex).u32(grid[0]);
    ctx.dispatch('cross_entropy', {}, u, [sr.resource, rl.resource, rc.resource, lr.resource, tr.resource], grid);
  }
  const lossR = ctx.bind(loss.storage, loss.offset, 1);
  const countR = ctx.bind(count.storage, count.offset, 1);
  if (lossR.base !== 0 || countR.base !== 0) throw new DeviceError('WebGPU crossEntropy: internal error: loss and count must start their buffers');
  ctx.dispatch('cross_entropy_mean', {}, new Uniforms().u32(N), [lossR.resource, countR.resource, ctx.bind(rowLoss, 0, N).resource, ctx.bind(counted, 0, N).resource], [1, 1, 1]);
  ctx.release(rowLoss);
  ctx.release(counted);
}

export function crossEntropyBackward(ctx: WebGPUBackend, { logits, targets, logsumexp, count, dloss, dlogits, N, V, ignoreIndex }: CrossEntropyBackwardArgs): void {
  const cr = ctx.bind(count.storage, count.offset, 1);
  const dr = ctx.bind(dloss.storage, dloss.offset, 1);
  for (const [r0, rows] of rowParts(ctx, N, V)) {
    const lr = bindRows(ctx, logits, r0, rows, V);
    const gr = bindRows(ctx, dlogits, r0, rows, V);
    const tr = bindRows(ctx, targets, r0, rows, 1);
    const sr = bindRows(ctx, logsumexp, r0, rows, 1);
    const grid = ctx.grid(Math.ceil((rows * V) / WG));
    const u = new Uniforms().u32(rows, V, lr.base, gr.base, tr.base, sr.base).i32(ignoreIndex).u32(grid[0] * WG, cr.base, dr.base);
    ctx.dispatch('cross_entropy_backward', { WG }, u, [gr.resource, lr.resource, tr.resource, sr.resource, cr.resource, dr.resource], grid);
  }
}

const REDUCE_OP: Record<ReduceOp, number> = { sum: 0, mean: 0, max: 1, argmax: 2 };

export function reduce(ctx: WebGPUBackend, op: ReduceOp, x: View, outer: number, R: number, inner: number, out: View): void {
  const scale = op === 'mean' ? 1 / R : 1;
  const slab = R * inner;
  if (slab <= ctx.bindableElements) {
    for (const [o0, count] of rowParts(ctx, outer, slab)) {
      const xr = bindRows(ctx, x, o0, count, slab);
      const or = bindRows(ctx, out, o0, count, inner);
      const grid = ctx.grid(count * inner);
      const u = new Uniforms().u32(count, R, inner, xr.base, slab, or.base, inner, grid[0]).f32(scale);
      ctx.dispatch('reduce', { OP: REDUCE_OP[op] }, u, [or.resource, xr.resource], grid);
    }
    return;
  }
  // One (R, inner) slab is larger than a window: reduce R in parts into (outer, parts, inner)
  // partial results, then reduce those. Only sums and maxima combine this way.
  if (op === 'argmax') throw new DeviceError(`WebGPU argmax: an axis of ${R} x ${inner} elements exceeds the storage binding limit`);
  const partR = Math.floor(ctx.bindableElements / inner);
  if (partR < 1) throw new DeviceError(`WebGPU ${op}: ${inner} elements per index exceed the storage binding limit`);
  const parts = Math.ceil(R / partR);
  const partial = ctx.scratch(outer * parts * inner);
  const partialView: View = { storage: partial, dtype: 'float32', shape: [outer, parts, inner], strides: [parts * inner, inner, 1], offset: 0 };
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < parts; k++) {
      const r0 = k * partR;
      const rows = Math.min(partR, R - r0);
      const xr = ctx.bind(x.storage, x.offset + o * slab + r0 * inner, rows * inner);
      const pr = ctx.bind(partial, (o * parts + k) * inner, inner);
      const grid = ctx.grid(inner);
      const u = new Uniforms().u32(1, rows, inner, xr.base, slab, pr.base, inner, grid[0]).f32(1);
      ctx.dispatch('reduce', { OP: REDUCE_OP[op] }, u, [pr.resource, xr.resource], grid);
    }
  }
  if (op === 'mean') {
    const sums = ctx.scratch(outer * inner);
    const sumsView: View = { storage: sums, dtype: 'float32', shape: [outer, inner], strides: [inner, 1], offset: 0 };
    reduce(ctx, 'sum', partialView, outer, parts, inner, sumsView);
    ctx.kernels.unary('mul_scalar', sumsView, out, 1 / R);
    ctx.release(sums);
  } else {
    reduce(ctx, op, partialView, outer, parts, inner, out);
  }
  ctx.release(partial);
}
