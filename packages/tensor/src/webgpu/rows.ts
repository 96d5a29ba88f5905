/**
 * Shared by the row kernels (softmax.ts, layernorm.ts, cross-entropy.ts, reduce.ts): each
 * processes whole rows, so work is split by rows when a tensor exceeds one binding window.
 */
import type { View } from '../backend.js';
import { DeviceError } from '../errors.js';
import type { WebGPUBackend } from './backend.js';

// Rows per dispatch of kernels that loop over rows in one invocation (llvmpipe's loop cap).
export const MAX_LOOPED_ROWS = 16384;

/** [first row, row count] parts such that `rowElements` elements per row fit one window. */
export function rowParts(
  ctx: WebGPUBackend,
  rows: number,
  rowElements: number,
  cap = Infinity,
): Array<[number, number]> {
  const perPart = Math.min(cap, Math.floor(ctx.bindableElements / Math.max(1, rowElements)));
  if (perPart < 1)
    throw new DeviceError(
      `WebGPU: a row of ${rowElements} elements exceeds the storage binding limit (${ctx.maxBindingBytes} bytes)`,
    );
  const parts: Array<[number, number]> = [];
  for (let r0 = 0; r0 < rows; r0 += perPart) parts.push([r0, Math.min(perPart, rows - r0)]);
  return parts;
}

/** Binds `rows` rows of `rowElements` elements of a contiguous view, from row `r0`. */
export function bindRows(ctx: WebGPUBackend, v: View, r0: number, rows: number, rowElements: number) {
  return ctx.bind(v.storage, v.offset + r0 * rowElements, rows * rowElements);
}
