/** Reference top-k candidates (Kernels.topKCandidates): a sort per row, as the sampler cuts. */
import type { View } from '../backend.js';
import { dataOf } from './storage.js';

export function topKCandidates(x: View, out: View, rows: number, n: number, k: number, capacity: number): void {
  const src = dataOf(x);
  const dst = dataOf(out);
  const width = 1 + 2 * capacity;
  for (let r = 0; r < rows; r++) {
    const row = src.subarray(x.offset + r * n, x.offset + (r + 1) * n) as Float32Array | Float64Array;
    const o = out.offset + r * width;
    dst.fill(-1, o + 1, o + 1 + capacity);
    dst.fill(-Infinity, o + 1 + capacity, o + width);
    if (!row.every(Number.isFinite)) {
      dst[o] = -1;
      continue;
    }
    // sampleNext's cut (packages/gpt/src/generate.ts): the k-th of the sorted scores, then `>=`
    // (so -0 and +0 tie, and every score equal to the k-th stays).
    const kth = new Float64Array(row).sort()[n - Math.min(k, n)]!;
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (row[i]! < kth) continue;
      if (count < capacity) {
        dst[o + 1 + count] = i;
        dst[o + 1 + capacity + count] = row[i]!;
      }
      count++;
    }
    dst[o] = count;
  }
}
