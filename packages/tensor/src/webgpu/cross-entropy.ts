/** WebGPU glue for cross_entropy.wgsl, cross_entropy_mean.wgsl and cross_entropy_backward.wgsl. */
import type { CrossEntropyArgs, CrossEntropyBackwardArgs } from '../backend.js';
import { DeviceError } from '../errors.js';
import type { WebGPUBackend } from './backend.js';
import { bindRows, rowParts } from './rows.js';
import { Uniforms } from './uniforms.js';

const WG = 256;

export function crossEntropy(
  ctx: WebGPUBackend,
  { logits, targets, loss, logsumexp, count, N, V, ignoreIndex }: CrossEntropyArgs,
): void {
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
  if (lossR.base !== 0 || countR.base !== 0)
    throw new DeviceError('WebGPU crossEntropy: internal error: loss and count must start their buffers');
  ctx.dispatch(
    'cross_entropy_mean',
    {},
    new Uniforms().u32(N),
    [lossR.resource, countR.resource, ctx.bind(rowLoss, 0, N).resource, ctx.bind(counted, 0, N).resource],
    [1, 1, 1],
  );
  ctx.release(rowLoss);
  ctx.release(counted);
}

export function crossEntropyBackward(
  ctx: WebGPUBackend,
  { logits, targets, logsumexp, count, dloss, dlogits, N, V, ignoreIndex }: CrossEntropyBackwardArgs,
): void {
  const cr = ctx.bind(count.storage, count.offset, 1);
  const dr = ctx.bind(dloss.storage, dloss.offset, 1);
  for (const [r0, rows] of rowParts(ctx, N, V)) {
    const lr = bindRows(ctx, logits, r0, rows, V);
    const gr = bindRows(ctx, dlogits, r0, rows, V);
    const tr = bindRows(ctx, targets, r0, rows, 1);
    const sr = bindRows(ctx, logsumexp, r0, rows, 1);
    const grid = ctx.grid(Math.ceil((rows * V) / WG));
    const u = new Uniforms()
      .u32(rows, V, lr.base, gr.base, tr.base, sr.base)
      .i32(ignoreIndex)
      .u32(grid[0] * WG, cr.base, dr.base);
    ctx.dispatch(
      'cross_entropy_backward',
      { WG },
      u,
      [gr.resource, lr.resource, tr.resource, sr.resource, cr.resource, dr.resource],
      grid,
    );
  }
}
