/** Reference uniform fill: random.ts's fillUniform over the view's elements. */
import type { UniformDraw, View } from '../backend.js';
import { fillUniform } from '../random.js';
import { sizeOf } from '../shape.js';
import { dataOf } from './storage.js';

export function uniform(out: View, draw: UniformDraw): void {
  const dst = dataOf(out) as Float32Array;
  fillUniform(dst.subarray(out.offset, out.offset + sizeOf(out.shape)), draw.key, draw.stream, draw.low, draw.high);
}
