/** WebGPU glue for top_k_candidates.wgsl: one workgroup per row, rows split by binding window. */
import type { View } from '../backend.js';
import type { WebGPUBackend } from './backend.js';
import { bindRows, rowParts } from './rows.js';
import { Uniforms } from './uniforms.js';

export function topKCandidates(
  ctx: WebGPUBackend,
  x: View,
  out: View,
  rows: number,
  n: number,
  k: number,
  capacity: number,
): void {
  const width = 1 + 2 * capacity;
  for (const [r0, count] of rowParts(ctx, rows, Math.max(n, width))) {
    const xr = bindRows(ctx, x, r0, count, n);
    const or = bindRows(ctx, out, r0, count, width);
    const grid = ctx.grid(count);
    const u = new Uniforms().u32(count, n, Math.min(k, n), capacity, xr.base, or.base, grid[0]);
    ctx.dispatch('top_k_candidates', {}, u, [or.resource, xr.resource], grid);
  }
}
