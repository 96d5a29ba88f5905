/**
 * WebGPU glue for matmul with a block-quantized weight (shaders/matvec_quant.wgsl): one
 * workgroup per output element, reading the weight's packed u32 words and unpacking them in
 * registers. W is bound in row ranges when it is larger than one binding window.
 */
import type { QuantMatmulArgs } from '../backend.js';
import { DeviceError } from '../errors.js';
import type { WebGPUBackend } from './backend.js';
import { Uniforms } from './uniforms.js';

const WG = 64;

export function matmulQuantized(ctx: WebGPUBackend, args: QuantMatmulArgs): void {
  const { M, N, K, format, a, data, scales, bias, out } = args;
  const nb = Math.ceil(K / 32);
  const rowHalves = (nb * (format === 'q8_0' ? 32 : 16)) / 2; // 16-bit elements of a row of integers
  if (data.offset % 2 !== 0 || scales.offset % 2 !== 0)
    throw new DeviceError('matmulQuantized: WebGPU needs the quantized tensors at word-aligned offsets');
  const perPart = Math.max(1, Math.floor(ctx.bindableElements / 2 / rowHalves));
  const ar = ctx.bind(a.storage, a.offset, M * K);
  const or = ctx.bind(out.storage, out.offset, M * N);
  const br = bias ? ctx.bind(bias.storage, bias.offset, N) : ar;
  for (let row0 = 0; row0 < N; row0 += perPart) {
    const rows = Math.min(perPart, N - row0);
    // Scales: rows * nb halves; bind from an even element so words line up.
    const dr = ctx.bind(data.storage, data.offset + row0 * rowHalves, rows * rowHalves);
    const sFirst = scales.offset + row0 * nb;
    const sEven = sFirst - (sFirst % 2);
    const sr = ctx.bind(scales.storage, sEven, rows * nb + (sFirst - sEven));
    if (dr.base % 2 !== 0 || sr.base % 2 !== 0)
      throw new DeviceError('matmulQuantized: WebGPU internal error: a quantized binding is not word-aligned');
    const grid = ctx.grid(rows * M);
    const u = new Uniforms().u32(
      M,
      N,
      K,
      nb,
      row0,
      rows,
      dr.base / 2,
      sr.base + (sFirst - sEven),
      ar.base,
      or.base,
      bias ? br.base : 0,
      grid[0],
    );
    ctx.dispatch(
      'matvec_quant',
      { WG, FORMAT: format === 'q8_0' ? 0 : 1, HAS_BIAS: bias !== null },
      u,
      [or.resource, ar.resource, dr.resource, sr.resource, br.resource],
      grid,
    );
  }
}
