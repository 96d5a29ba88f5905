/** WebGPU glue for layernorm.wgsl, layernorm_backward.wgsl and layernorm_backward_params.wgsl. */
import type { LayerNormArgs, LayerNormBackwardArgs } from '../backend.js';
import { DeviceError } from '../errors.js';
import type { WebGPUBackend } from './backend.js';
import { MAX_LOOPED_ROWS, bindRows, rowParts } from './rows.js';
import { Uniforms } from './uniforms.js';

const WG = 256;
/** Rows per block of the parameter gradients' first pass (BLOCK_ROWS in layernorm_backward.wgsl). */
const BLOCK_ROWS = 32;

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
    ctx.dispatch(
      'layernorm',
      {},
      u,
      [or.resource, mr.resource, sr.resource, xr.resource, w.resource, b.resource],
      grid,
    );
  }
}

export function layerNormBackward(
  ctx: WebGPUBackend,
  { dy, x, weight, mean, rstd, dx, dweight, dbias, N, C, accumulate }: LayerNormBackwardArgs,
): void {
  const w = ctx.bind(weight.storage, weight.offset, C);
  const dw = ctx.bind(dweight.storage, dweight.offset, C);
  const db = ctx.bind(dbias.storage, dbias.offset, C);
  rowParts(ctx, N, C, MAX_LOOPED_ROWS).forEach(([r0, count], part) => {
    const [dyr, xr, dxr] = [dy, x, dx].map((v) => bindRows(ctx, v, r0, count, C));
    const mr = bindRows(ctx, mean, r0, count, 1);
    const sr = bindRows(ctx, rstd, r0, count, 1);
    // One dispatch: the rows' dx, then the parameter gradients' partial column sums.
    const colGroups = Math.ceil(C / 64);
    const blocks = Math.ceil(count / BLOCK_ROWS);
    const partial = ctx.scratch(2 * blocks * C);
    const pr = ctx.bind(partial, 0, 2 * blocks * C); // base 0: a window starts at the buffer's start
    const grid = ctx.grid(count + colGroups * blocks);
    // The residual's gradient, added to dx in the same kernel.
    const ar = accumulate ? bindRows(ctx, accumulate, r0, count, C) : null;
    const u = new Uniforms().u32(
      count,
      C,
      dyr!.base,
      xr!.base,
      dxr!.base,
      mr.base,
      w.base,
      grid[0],
      colGroups,
      blocks,
      ar?.base ?? 0,
    );
    ctx.dispatch(
      'layernorm_backward',
      { ACCUMULATE: ar !== null },
      u,
      [
        dxr!.resource,
        dyr!.resource,
        xr!.resource,
        w.resource,
        mr.resource,
        sr.resource,
        pr.resource,
        ar?.resource ?? ctx.dummy,
      ],
      grid,
    );
    const up = new Uniforms().u32(blocks, C, dw.base, db.base);
    ctx.dispatch(
      'layernorm_backward_params',
      { WG, ACCUMULATE: part > 0 },
      up,
      [dw.resource, db.resource, pr.resource],
      [Math.ceil(C / WG), 1, 1],
    );
    ctx.release(partial);
  });
}
