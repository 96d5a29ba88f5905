// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Softmax over rows of n float32 (attention's scores: n = keys), with the reference's causal
// mask (packages/tensor/src/cpu/softmax.ts): row r of each (tq, tk) block sees the columns
// j <= r % tq + tk - tq (so with a KV cache of tk - tq earlier keys the new queries see them
// all); masked columns come out 0. exp in float32 (simd-math.ts), sums in float64.
import { rowMax, sumExp, scaleRow, zeroRow, loadTail, storeTail } from './simd-math';

/** Rows [first, first + count) of out = softmax(x); tq = 0: no mask. x, out point at row 0. */
export function softmaxRows(x: usize, out: usize, first: i32, count: i32, n: i32, tq: i32, tk: i32): void {
  for (let r = first; r < first + count; r++) {
    const at = <usize>r * <usize>n << 2;
    const visible = tq == 0 ? n : min(n, max(0, (r % tq) + tk - tq + 1));
    const m = rowMax(x + at, visible);
    const sum = sumExp(x + at, visible, m, out + at);
    scaleRow(out + at, out + at, visible, <f32>(1 / sum));
    zeroRow(out + at + (<usize>visible << 2), n - visible);
  }
}

/** Rows [first, first + count) of dx = y (dy - sum(dy y)), the dot in float64. */
export function softmaxBackwardRows(y: usize, dy: usize, dx: usize, first: i32, count: i32, n: i32): void {
  const n4 = n & ~3;
  for (let r = first; r < first + count; r++) {
    const row = <usize>r * <usize>n << 2;
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const at = row + (<usize>j << 2);
      const p = f32x4.mul(v128.load(y + at), v128.load(dy + at));
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(p));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(i8x16.shuffle(p, p, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)));
    }
    let dot = f64x2.extract_lane(f64x2.add(lo, hi), 0) + f64x2.extract_lane(f64x2.add(lo, hi), 1);
    for (let j = n4; j < n; j++) {
      const at = row + (<usize>j << 2);
      dot += <f64>load<f32>(y + at) * <f64>load<f32>(dy + at);
    }
    const d = f32x4.splat(<f32>dot);
    for (let j = 0; j < n4; j += 4) {
      const at = row + (<usize>j << 2);
      v128.store(dx + at, f32x4.mul(v128.load(y + at), f32x4.sub(v128.load(dy + at), d)));
    }
    if (n4 < n) {
      const at = row + (<usize>n4 << 2);
      storeTail(dx + at, f32x4.mul(loadTail(y + at, n - n4), f32x4.sub(loadTail(dy + at, n - n4), d)), n - n4);
    }
  }
}
