/** WebGPU glue for dropout.wgsl and adamw.wgsl: flat elementwise kernels over contiguous data. */
import type { AdamWStep, DropoutMask, View } from '../backend.js';
import { dropThreshold } from '../cpu/dropout.js';
import type { WebGPUBackend } from './backend.js';
import { flatParts } from './elementwise.js';
import { Uniforms } from './uniforms.js';

const WG = 256;

export function dropout(ctx: WebGPUBackend, x: View, out: View, { p, key, stream }: DropoutMask): void {
  const total = x.shape.reduce((a, d) => a * d, 1);
  const threshold = p >= 1 ? 2 ** 32 - 1 : dropThreshold(p);
  const scale = p >= 1 ? 0 : 1 / (1 - p);
  for (const [start, count] of flatParts(ctx, total, true)) {
    const xr = ctx.bind(x.storage, x.offset + start, count);
    const or = ctx.bind(out.storage, out.offset + start, count);
    const grid = ctx.grid(Math.ceil(count / 2 / WG));
    const u = new Uniforms().u32(count, start / 2, xr.base, or.base).vec2u32(key[0], key[1]).u32(stream, threshold).f32(scale).u32(grid[0] * WG);
    ctx.dispatch('dropout', { WG }, u, [or.resource, xr.resource], grid);
  }
}

export function adamw(ctx: WebGPUBackend, param: View, grad: View, m: View, v: View, s: AdamWStep): void {
  const total = param.shape.reduce((a, d) => a * d, 1);
  for (const [start, count] of flatParts(ctx, total)) {
    const [pr, mr, vr, gr] = [param, m, v, grad].map((t) => ctx.bind(t.storage, t.offset + start, count));
    const grid = ctx.grid(Math.ceil(count / WG));
    const u = new Uniforms()
      .u32(count, grid[0] * WG)
      .f32(1 - s.lr * s.weightDecay, s.beta1, s.beta2, 1 - s.beta1, 1 - s.beta2, s.lr / (1 - s.beta1 ** s.step), Math.sqrt(1 - s.beta2 ** s.step), s.eps)
      .u32(pr!.base, mr!.base, vr!.base, gr!.base);
    ctx.dispatch('adamw', { WG }, u, [pr!.resource, mr!.resource, vr!.resource, gr!.resource], grid);
  }
}
