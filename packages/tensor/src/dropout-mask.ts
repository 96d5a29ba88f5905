/**
 * Dropout's mask: the maths every backend shares. Element i of a tensor is kept when word
 * i & 1 of Threefry-2x32(key, (i >> 1, stream)) is at least `threshold`, and a kept value is
 * scaled by 1 / (1 - p), so any backend, in any order, drops the same elements. The CPU kernels
 * call these functions; shaders/dropout.wgsl (with lib_threefry.wgsl) draws the same words
 * from the constants `maskConstants` gives it.
 */
import type { DropoutMask } from './backend.js';
import { threefry2x32 } from './random.js';

export interface MaskConstants {
  /** Words below this are dropped: round(p * 2^32) of the 2^32 words, so P(drop) = p to 2^-32. */
  readonly threshold: number;
  /** 1 / (1 - p), or 0 when p = 1 (everything dropped). */
  readonly scale: number;
}

export function maskConstants(p: number): MaskConstants {
  const threshold = Math.min(2 ** 32 - 1, Math.round(p * 2 ** 32));
  return { threshold, scale: p >= 1 ? 0 : 1 / (1 - p) };
}

/** Writes the two mask words of element pair `pair` (elements 2 pair and 2 pair + 1) into `out`. */
export function maskWords(mask: DropoutMask, pair: number, out: Uint32Array): void {
  threefry2x32(mask.key[0], mask.key[1], pair, mask.stream, out);
}

/**
 * out[j] = the factor dropout multiplies element `first + j` by (0 or 1 / (1 - p)), for j in
 * [0, count): what fused attention applies to a row of its weights without storing them.
 */
export function maskFactors(mask: DropoutMask, first: number, count: number, out: Float64Array): void {
  if (mask.keep) {
    const scale = Math.fround(1 / (1 - mask.p));
    for (let j = 0; j < count; j++) out[j] = mask.keep[first + j] ? scale : 0;
    return;
  }
  const { threshold, scale } = maskConstants(mask.p);
  const words = new Uint32Array(2);
  let pair = -1;
  for (let j = 0; j < count; j++) {
    const i = first + j;
    const at = Math.floor(i / 2);
    if (at !== pair) {
      maskWords(mask, at, words);
      pair = at;
    }
    out[j] = mask.p < 1 && words[i % 2]! >= threshold ? scale : 0;
  }
}
