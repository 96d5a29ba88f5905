/** Reference dropout: the shared mask (dropout-mask.ts) applied in a plain loop. */
import type { DropoutMask, View } from '../backend.js';
import { maskConstants, maskWords } from '../dropout-mask.js';
import { dataOf } from './storage.js';

export function dropout(x: View, out: View, mask: DropoutMask): void {
  const src = dataOf(x);
  const dst = dataOf(out);
  let n = 1;
  for (const d of x.shape) n *= d;
  if (mask.keep) {
    const keep = mask.keep;
    if (keep.length !== n) throw new RangeError(`dropout: the mask has ${keep.length} elements, the tensor ${n}`);
    const scale = Math.fround(1 / (1 - mask.p));
    for (let i = 0; i < n; i++) dst[out.offset + i] = keep[i] ? src[x.offset + i]! * scale : 0 * src[x.offset + i]!;
    return;
  }
  const { threshold, scale } = maskConstants(mask.p);
  const words = new Uint32Array(2);
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) maskWords(mask, i / 2, words);
    const keep = mask.p < 1 && words[i % 2]! >= threshold;
    dst[out.offset + i] = keep ? src[x.offset + i]! * scale : 0;
  }
}
