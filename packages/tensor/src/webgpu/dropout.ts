/** WebGPU glue for dropout.wgsl and dropout4.wgsl: the shared mask (dropout-mask.ts), two or four elements per invocation. */
import type { DropoutMask, View } from '../backend.js';
import { maskConstants } from '../dropout-mask.js';
import { DeviceError } from '../errors.js';
import type { WebGPUBackend } from './backend.js';
import { flatParts } from './elementwise.js';
import { Uniforms } from './uniforms.js';

const WG = 256;

/**
 * out = x * keep / (1 - p) (+ residual): dropout4.wgsl over the first count - count % 4
 * elements where x, out and residual start at multiples of 4 (the usual case: fresh
 * tensors), dropout.wgsl over the rest; both draw element i's bit from the same Threefry word.
 */
export function dropout(
  ctx: WebGPUBackend,
  x: View,
  out: View,
  { p, key, stream, keep }: DropoutMask,
  residual?: View,
): void {
  if (keep) throw new DeviceError('dropout: a host-drawn mask (the torch random stream) runs on the CPU devices only');
  const total = x.shape.reduce((a, d) => a * d, 1);
  const { threshold, scale } = maskConstants(p);
  const operands = residual ? [x, out, residual] : [x, out];
  const aligned = total >= 4 && operands.every((v) => v.offset % 4 === 0);
  const vec4s = aligned ? Math.floor(total / 4) : 0;
  const size = Math.floor(ctx.bindableElements / 4);
  for (let first = 0; first < vec4s; first += size) {
    const n = Math.min(size, vec4s - first);
    const [start, count] = [4 * first, 4 * n];
    const xr = ctx.bind(x.storage, x.offset + start, count);
    const or = ctx.bind(out.storage, out.offset + start, count);
    const rr = residual ? ctx.bind(residual.storage, residual.offset + start, count) : xr;
    const grid = ctx.grid(Math.ceil(n / WG));
    const u = new Uniforms()
      .u32(n, start / 2, xr.base / 4, or.base / 4)
      .vec2u32(key[0], key[1])
      .stream(stream)
      .u32(threshold)
      .f32(scale)
      .u32(grid[0] * WG, rr.base / 4);
    ctx.dispatch('dropout4', { WG, RESIDUAL: !!residual }, u, [or.resource, xr.resource, rr.resource], grid);
  }
  const done = 4 * vec4s;
  for (const [part, count] of flatParts(ctx, total - done, true)) {
    const start = done + part;
    const xr = ctx.bind(x.storage, x.offset + start, count);
    const or = ctx.bind(out.storage, out.offset + start, count);
    const rr = residual ? ctx.bind(residual.storage, residual.offset + start, count) : xr;
    const grid = ctx.grid(Math.ceil(count / 2 / WG));
    const u = new Uniforms()
      .u32(count, start / 2, xr.base, or.base)
      .vec2u32(key[0], key[1])
      .stream(stream)
      .u32(threshold)
      .f32(scale)
      .u32(grid[0] * WG, rr.base);
    ctx.dispatch('dropout', { WG, RESIDUAL: !!residual }, u, [or.resource, xr.resource, rr.resource], grid);
  }
}
