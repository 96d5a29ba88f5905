/** WebGPU glue for dropout.wgsl: the shared mask (dropout-mask.ts), two elements per invocation. */
import type { DropoutMask, View } from '../backend.js';
import { maskConstants } from '../dropout-mask.js';
import { DeviceError } from '../errors.js';
import type { WebGPUBackend } from './backend.js';
import { flatParts } from './elementwise.js';
import { Uniforms } from './uniforms.js';

const WG = 256;

export function dropout(ctx: WebGPUBackend, x: View, out: View, { p, key, stream, keep }: DropoutMask): void {
  if (keep) throw new DeviceError('dropout: a host-drawn mask (the torch random stream) runs on the CPU devices only');
  const total = x.shape.reduce((a, d) => a * d, 1);
  const { threshold, scale } = maskConstants(p);
  for (const [start, count] of flatParts(ctx, total, true)) {
    const xr = ctx.bind(x.storage, x.offset + start, count);
    const or = ctx.bind(out.storage, out.offset + start, count);
    const grid = ctx.grid(Math.ceil(count / 2 / WG));
    const u = new Uniforms()
      .u32(count, start / 2, xr.base, or.base)
      .vec2u32(key[0], key[1])
      .u32(stream, threshold)
      .f32(scale)
      .u32(grid[0] * WG);
    ctx.dispatch('dropout', { WG }, u, [or.resource, xr.resource], grid);
  }
}
