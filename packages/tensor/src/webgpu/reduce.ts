/** WebGPU glue for reduce.wgsl: sum, mean, max and argmax over one axis, in parts when an axis exceeds a window. */
import type { ReduceOp, View } from '../backend.js';
import { DeviceError } from '../errors.js';
import type { WebGPUBackend } from './backend.js';
import { bindRows, rowParts } from './rows.js';
import { Uniforms } from './uniforms.js';

/** Below this many outputs, a long axis is reduced in two passes (one workgroup per output leaves a GPU idle). */
const FEW_OUTPUTS = 256;
/** Rows per piece of the first pass. */
const PIECE = 4096;

const REDUCE_OP: Record<ReduceOp, number> = { sum: 0, mean: 0, max: 1, argmax: 2 };

export function reduce(
  ctx: WebGPUBackend,
  op: ReduceOp,
  x: View,
  outer: number,
  R: number,
  inner: number,
  out: View,
  scale = op === 'mean' ? 1 / R : 1,
): void {
  const slab = R * inner;
  if (op !== 'argmax' && outer * inner < FEW_OUTPUTS && R >= 2 * PIECE && outer * slab <= ctx.bindableElements) {
    // Few outputs over a long axis (a sum to a scalar): pieces of PIECE rows on many workgroups
    // into (outer, parts, inner) partials, then one workgroup per output sums those.
    const parts = Math.ceil(R / PIECE);
    const partial = ctx.scratch(outer * parts * inner);
    const xr = ctx.bind(x.storage, x.offset, outer * slab);
    const pr = ctx.bind(partial, 0, outer * parts * inner);
    const grid = ctx.grid(outer * parts * inner);
    const u = new Uniforms()
      .u32(outer, PIECE, inner, xr.base, slab, pr.base, parts * inner, grid[0])
      .f32(1)
      .u32(parts, R);
    ctx.dispatch('reduce', { OP: REDUCE_OP[op] }, u, [pr.resource, xr.resource], grid);
    const partialView: View = {
      storage: partial,
      dtype: 'float32',
      shape: [outer, parts, inner],
      strides: [parts * inner, inner, 1],
      offset: 0,
    };
    reduce(ctx, op === 'mean' ? 'sum' : op, partialView, outer, parts, inner, out, scale);
    ctx.release(partial);
    return;
  }
  if (slab <= ctx.bindableElements) {
    for (const [o0, count] of rowParts(ctx, outer, slab)) {
      const xr = bindRows(ctx, x, o0, count, slab);
      const or = bindRows(ctx, out, o0, count, inner);
      const grid = ctx.grid(count * inner);
      const u = new Uniforms().u32(count, R, inner, xr.base, slab, or.base, inner, grid[0]).f32(scale).u32(1, R);
      ctx.dispatch('reduce', { OP: REDUCE_OP[op] }, u, [or.resource, xr.resource], grid);
    }
    return;
  }
  // One (R, inner) slab is larger than a window: reduce R in parts into (outer, parts, inner)
  // partial results, then reduce those. Only sums and maxima combine this way.
  if (op === 'argmax')
    throw new DeviceError(`WebGPU argmax: an axis of ${R} x ${inner} elements exceeds the storage binding limit`);
  const partR = Math.floor(ctx.bindableElements / inner);
  if (partR < 1) throw new DeviceError(`WebGPU ${op}: ${inner} elements per index exceed the storage binding limit`);
  const parts = Math.ceil(R / partR);
  const partial = ctx.scratch(outer * parts * inner);
  const partialView: View = {
    storage: partial,
    dtype: 'float32',
    shape: [outer, parts, inner],
    strides: [parts * inner, inner, 1],
    offset: 0,
  };
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < parts; k++) {
      const r0 = k * partR;
      const rows = Math.min(partR, R - r0);
      const xr = ctx.bind(x.storage, x.offset + o * slab + r0 * inner, rows * inner);
      const pr = ctx.bind(partial, (o * parts + k) * inner, inner);
      const grid = ctx.grid(inner);
      const u = new Uniforms().u32(1, rows, inner, xr.base, slab, pr.base, inner, grid[0]).f32(1).u32(1, rows);
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
