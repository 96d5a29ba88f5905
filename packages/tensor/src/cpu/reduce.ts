/** Reference reductions over the middle axis of (outer, R, inner). */
import type { ReduceOp, View } from '../backend.js';
import { dataOf } from './storage.js';

export function reduce(op: ReduceOp, x: View, outer: number, R: number, inner: number, out: View): void {
  const src = dataOf(x);
  const dst = dataOf(out);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = x.offset + o * R * inner + i;
      let acc = op === 'max' || op === 'argmax' ? -Infinity : 0;
      let best = 0;
      for (let r = 0; r < R; r++) {
        const v = src[base + r * inner]!;
        if (op === 'sum' || op === 'mean') acc += v;
        else if (v > acc || Number.isNaN(v)) {
          // NaN wins, as in PyTorch: max of a row with a NaN is NaN.
          if (!Number.isNaN(acc)) {
            acc = v;
            best = r;
          }
        }
      }
      const value = op === 'mean' ? acc / R : op === 'argmax' ? best : acc;
      dst[out.offset + o * inner + i] = value;
    }
  }
}
