/**
 * WebGPU glue for convert.wgsl: casts between float32, float16 and bfloat16, and copies of
 * 16-bit tensors (the copy kernel's 32-bit words cannot address half a word). The output is
 * contiguous and starts on a word. A contiguous input larger than one storage binding window
 * is converted in parts (even-sized, so every part's output starts on a word); a strided one
 * must fit one window.
 */
import type { View } from '../backend.js';
import { type DType, isHalf } from '../dtype.js';
import { DeviceError, formatShape } from '../errors.js';
import { coalesce, contiguousStrides } from '../shape.js';
import type { WebGPUBackend } from './backend.js';
import { flatParts } from './elementwise.js';
import { Uniforms } from './uniforms.js';

const WG = 256;
const MAX_RANK = 8;

/** The `kind` constants of lib_half.wgsl. */
export const halfKind = (dtype: DType): number => (dtype === 'float16' ? 1 : dtype === 'bfloat16' ? 2 : 0);

const isContiguous = (v: View) => v.shape.every((d, i) => d === 1 || v.strides[i] === contiguousStrides(v.shape)[i]);

export function convert(ctx: WebGPUBackend, x: View, out: View): void {
  const count = out.shape.reduce((p, d) => p * d, 1);
  if (count === 0) return;
  if (!isContiguous(out) || (isHalf(out.dtype) && out.offset % 2 !== 0)) {
    throw new DeviceError(
      `WebGPU: writing ${out.dtype} elements into a strided or mid-word view (${formatShape(out.shape)}) is not supported; make the destination contiguous`,
    );
  }
  const span = 1 + x.shape.reduce((p, d, i) => p + (d - 1) * x.strides[i]!, 0);
  if (Math.max(span, count) <= ctx.bindableElements) {
    convertPart(ctx, x, out, count);
    return;
  }
  if (!isContiguous(x))
    throw new DeviceError(
      `WebGPU: converting a strided view of ${formatShape(x.shape)} larger than one storage binding (${ctx.maxBindingBytes} bytes); make it contiguous first`,
    );
  for (const [start, n] of flatParts(ctx, count, true)) {
    const part = (v: View): View => ({
      storage: v.storage,
      dtype: v.dtype,
      shape: [n],
      strides: [1],
      offset: v.offset + start,
    });
    convertPart(ctx, part(x), part(out), n);
  }
}

function convertPart(ctx: WebGPUBackend, x: View, out: View, count: number): void {
  const { shape, strides } = coalesce(x.shape, [x.strides]);
  if (shape.length > MAX_RANK)
    throw new DeviceError(`WebGPU convert: a view of ${formatShape(x.shape)} needs more than ${MAX_RANK} dimensions`);
  const span = 1 + shape.reduce((p, d, i) => p + (d - 1) * strides[0]![i]!, 0);
  const xr = ctx.bind(x.storage, x.offset, span);
  const or = ctx.bind(out.storage, out.offset, count);
  const words = isHalf(out.dtype) ? Math.ceil(count / 2) : count;
  const workgroups = ctx.grid(Math.ceil(words / WG));
  const u = new Uniforms()
    .u32Array(shape, 2)
    .u32Array([...new Array<number>(MAX_RANK).fill(0), ...strides[0]!], 6)
    .u32Array([or.base, xr.base], 1)
    .u32(shape.length, count)
    .f32(0)
    .u32(workgroups[0] * WG);
  ctx.dispatch(
    'convert',
    { WG, IN_KIND: halfKind(x.dtype), OUT_KIND: halfKind(out.dtype) },
    u,
    [or.resource, xr.resource],
    workgroups,
  );
}
