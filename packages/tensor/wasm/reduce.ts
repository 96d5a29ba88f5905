// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Sum (and mean) over the middle axis of a contiguous (outer, R, inner) float32 array, in
// float64 as the reference (packages/tensor/src/cpu/reduce.ts) and divided once by `divisor`
// (1 for a sum, R for a mean). inner = 1 (a row sum) runs along the rows four at a time; wider
// inner runs four inner columns at a time down R (the bias gradient: (B T, C) -> C).
import { addHigh, addLow, hsum64, keepLanes, loadTail } from './simd-math';

/**
 * out[o, i] for o in [0, outer) and i in [innerFirst, innerFirst + innerCount): x, out point
 * at (0, 0, 0) of this part's outer range.
 */
export function sumMiddle(x: usize, out: usize, outer: i32, R: i32, inner: i32, innerFirst: i32, innerCount: i32, divisor: f64): void {
  for (let o = 0; o < outer; o++) {
    const base = x + (<usize>o * <usize>R * <usize>inner << 2);
    const dst = out + (<usize>o * <usize>inner << 2);
    if (inner == 1) {
      let lo = f64x2.splat(0), hi = f64x2.splat(0);
      const R4 = R & ~3;
      for (let r = 0; r < R4; r += 4) {
        const v = v128.load(base + (<usize>r << 2));
        lo = addLow(lo, v); hi = addHigh(hi, v);
      }
      if (R4 < R) {
        const v = keepLanes(loadTail(base + (<usize>R4 << 2), R - R4), R - R4, 0);
        lo = addLow(lo, v); hi = addHigh(hi, v);
      }
      store<f32>(dst, <f32>(hsum64(lo, hi) / divisor));
      continue;
    }
    const end = innerFirst + innerCount;
    let i = innerFirst;
    for (; i + 4 <= end; i += 4) {
      let lo = f64x2.splat(0), hi = f64x2.splat(0);
      for (let r = 0; r < R; r++) {
        const v = v128.load(base + (<usize>(r * inner + i) << 2));
        lo = addLow(lo, v); hi = addHigh(hi, v);
      }
      const d = f64x2.splat(divisor);
      lo = f64x2.div(lo, d); hi = f64x2.div(hi, d);
      store<f32>(dst + (<usize>i << 2), <f32>f64x2.extract_lane(lo, 0));
      store<f32>(dst + (<usize>i << 2), <f32>f64x2.extract_lane(lo, 1), 4);
      store<f32>(dst + (<usize>i << 2), <f32>f64x2.extract_lane(hi, 0), 8);
      store<f32>(dst + (<usize>i << 2), <f32>f64x2.extract_lane(hi, 1), 12);
    }
    for (; i < end; i++) {
      let acc: f64 = 0;
      for (let r = 0; r < R; r++) acc += <f64>load<f32>(base + (<usize>(r * inner + i) << 2));
      store<f32>(dst + (<usize>i << 2), <f32>(acc / divisor));
    }
  }
}
