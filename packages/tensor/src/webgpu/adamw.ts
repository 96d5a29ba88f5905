/** WebGPU glue for adamw.wgsl: one fused AdamW step, a flat elementwise kernel over contiguous data. */
import type { AdamWStep, View } from '../backend.js';
import type { WebGPUBackend } from './backend.js';
import { flatParts } from './elementwise.js';
import { Uniforms } from './uniforms.js';

const WG = 256;

export function adamw(ctx: WebGPUBackend, param: View, grad: View, m: View, v: View, s: AdamWStep): void {
  const total = param.shape.reduce((a, d) => a * d, 1);
  for (const [start, count] of flatParts(ctx, total)) {
    const [pr, mr, vr, gr] = [param, m, v, grad].map((t) => ctx.bind(t.storage, t.offset + start, count));
    const grid = ctx.grid(Math.ceil(count / WG));
    const u = new Uniforms()
      .u32(count, grid[0] * WG)
      .f32(
        1 - s.lr * s.weightDecay,
        s.beta1,
        s.beta2,
        1 - s.beta1,
        1 - s.beta2,
        s.lr / (1 - s.beta1 ** s.step),
        Math.sqrt(1 - s.beta2 ** s.step),
        s.eps,
      )
      .u32(pr!.base, mr!.base, vr!.base, gr!.base);
    ctx.dispatch('adamw', { WG }, u, [pr!.resource, mr!.resource, vr!.resource, gr!.resource], grid);
  }
}
