/** Reference dropout: the mask bit of element i is Threefry(key, (i >> 1, stream)) word i & 1. */
import type { DropoutMask, View } from '../backend.js';
import { threefry2x32 } from '../random.js';
import { dataOf } from './storage.js';

/** Elements whose 32 random bits are below this are dropped: P(drop) = p to 2^-32. */
export function dropThreshold(p: number): number {
  return Math.min(2 ** 32 - 1, Math.round(p * 2 ** 32));
}

export function dropout(x: View, out: View, { p, key, stream }: DropoutMask): void {
  const src = dataOf(x);
  const dst = dataOf(out);
  let n = 1;
  for (const d of x.shape) n *= d;
  const threshold = dropThreshold(p);
  const scale = p >= 1 ? 0 : 1 / (1 - p);
  const pair = new Uint32Array(2);
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) threefry2x32(key[0], key[1], i / 2, stream, pair);
    const keep = pair[i % 2]! >= threshold && p < 1;
    dst[out.offset + i] = keep ? src[x.offset + i]! * scale : 0;
  }
}
