/**
 * WebGPU glue for embedding gather (embedding.wgsl) and its backward (embedding_links.wgsl,
 * embedding_backward.wgsl). A table larger than one binding window is bound in row ranges, and
 * the positions (ids, out or dout) in parts, one dispatch per pair of ranges.
 */
import type { GatherArgs, ScatterAddArgs } from '../backend.js';
import type { WebGPUBackend } from './backend.js';
import { rowParts } from './rows.js';
import { halfKind } from './half.js';
import { Uniforms } from './uniforms.js';

const WG = 256;

export function gather(ctx: WebGPUBackend, { table, ids, out, N, V, C }: GatherArgs): void {
  for (const [i0, n] of rowParts(ctx, N, C)) {
    const idr = ctx.bind(ids.storage, ids.offset + i0, n);
    const or = ctx.bind(out.storage, out.offset + i0 * C, n * C);
    const grid = ctx.grid(Math.ceil((n * C) / WG));
    rowParts(ctx, V, C).forEach(([row0, rows], part) => {
      const tr = ctx.bind(table.storage, table.offset + row0 * C, rows * C);
      const u = new Uniforms().u32(n, C, row0, rows, tr.base, idr.base, or.base, grid[0] * WG);
      ctx.dispatch(
        'embedding',
        { WG, FIRST_PART: part === 0, TABLE_KIND: halfKind(table.dtype) },
        u,
        [or.resource, tr.resource, idr.resource],
        grid,
      );
    });
  }
}

export function scatterAdd(ctx: WebGPUBackend, { dout, ids, dtable, N, V, C }: ScatterAddArgs): void {
  for (const [i0, n] of rowParts(ctx, N, C)) {
    const idr = ctx.bind(ids.storage, ids.offset + i0, n);
    const first = ctx.scratch(n);
    const next = ctx.scratch(n);
    const fr = ctx.bind(first, 0, n);
    const nr = ctx.bind(next, 0, n);
    ctx.dispatch(
      'embedding_links',
      { WG },
      new Uniforms().u32(n, idr.base),
      [fr.resource, nr.resource, idr.resource],
      [Math.ceil(n / WG), 1, 1],
    );
    const gr = ctx.bind(dout.storage, dout.offset + i0 * C, n * C);
    const grid = ctx.grid(Math.ceil((n * C) / WG));
    for (const [row0, rows] of rowParts(ctx, V, C)) {
      const tr = ctx.bind(dtable.storage, dtable.offset + row0 * C, rows * C);
      const u = new Uniforms().u32(n, C, row0, rows, tr.base, gr.base, idr.base, grid[0] * WG);
      ctx.dispatch(
        'embedding_backward',
        { WG },
        u,
        [tr.resource, gr.resource, idr.resource, fr.resource, nr.resource],
        grid,
      );
    }
    ctx.release(first);
    ctx.release(next);
  }
}
