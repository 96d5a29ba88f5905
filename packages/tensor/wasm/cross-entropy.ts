// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// The exp-heavy halves of the fused cross-entropy over (N, V) logits (the step's largest
// tensor): per row logsumexp for the forward, softmax(logits) * scale for the backward. The
// targets (int32, outside this heap), the ignored rows and the loss's mean stay in
// JavaScript (packages/tensor/src/cpu-fast/cross-entropy.ts): N numbers, not N x V.
import { rowMax, sumExp, loadTail, storeTail, exp4 } from './simd-math';

/** lse[i] = logsumexp(logits[i, :]) for rows [first, first + count); logits, lse point at row 0. */
export function logSumExpRows(logits: usize, lse: usize, first: i32, count: i32, V: i32): void {
  for (let i = first; i < first + count; i++) {
    const row = logits + (<usize>i * <usize>V << 2);
    const m = rowMax(row, V);
    store<f32>(lse + (<usize>i << 2), <f32>(<f64>m + Math.log(sumExp(row, V, m, 0))));
  }
}

/** d[i, j] = exp(logits[i, j] - lse[i]) * scale for rows [first, first + count). */
export function softmaxScaledRows(logits: usize, lse: usize, d: usize, first: i32, count: i32, V: i32, scale: f32): void {
  const k = f32x4.splat(scale);
  const V4 = V & ~3;
  for (let i = first; i < first + count; i++) {
    const row = <usize>i * <usize>V << 2;
    const shift = f32x4.splat(load<f32>(lse + (<usize>i << 2)));
    for (let j = 0; j < V4; j += 4) {
      const at = row + (<usize>j << 2);
      v128.store(d + at, f32x4.mul(exp4(f32x4.sub(v128.load(logits + at), shift)), k));
    }
    if (V4 < V) {
      const at = row + (<usize>V4 << 2);
      storeTail(d + at, f32x4.mul(exp4(f32x4.sub(loadTail(logits + at, V - V4), shift)), k), V - V4);
    }
  }
}
