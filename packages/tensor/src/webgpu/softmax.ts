/** WebGPU glue for softmax.wgsl and softmax_backward.wgsl: one workgroup per row. */
import type { View } from '../backend.js';
import type { WebGPUBackend } from './backend.js';
import { bindRows, rowParts } from './rows.js';
import { Uniforms } from './uniforms.js';

export function softmax(
  ctx: WebGPUBackend,
  x: View,
  out: View,
  rows: number,
  n: number,
  causal: { tq: number; tk: number } | null,
): void {
  for (const [r0, count] of rowParts(ctx, rows, n)) {
    const xr = bindRows(ctx, x, r0, count, n);
    const or = bindRows(ctx, out, r0, count, n);
    const grid = ctx.grid(count);
    const u = new Uniforms().u32(
      count,
      n,
      xr.base,
      or.base,
      causal ? 1 : 0,
      causal?.tq ?? 1,
      causal?.tk ?? n,
      r0,
      grid[0],
    );
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
