// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Layer norm over rows of C float32, forward and backward, as the reference
// (packages/tensor/src/cpu/layernorm.ts): biased variance (two passes), rstd = 1 / sqrt(var + eps),
// the forward writing its caches mean and rstd. Row sums in float64. The backward's dweight and
// dbias sum over every row: each part adds its rows into its own (C) float32 partials, which
// the caller adds up, so parts never write the same bytes.
import { addHigh, addLow, hsum64 } from './simd-math';

/** Rows [first, first + count): out, mean, rstd from x, weight, bias. C a multiple of 4 (the caller checks). */
export function layerNormRows(x: usize, weight: usize, bias: usize, out: usize, mean: usize, rstd: usize,
  first: i32, count: i32, C: i32, eps: f64): void {
  for (let n = first; n < first + count; n++) {
    const row = <usize>n * <usize>C << 2;
    let lo = f64x2.splat(0), hi = f64x2.splat(0);
    for (let c = 0; c < C; c += 4) {
      const v = v128.load(x + row + (<usize>c << 2));
      lo = addLow(lo, v); hi = addHigh(hi, v);
    }
    const m = hsum64(lo, hi) / <f64>C;
    const mv = f32x4.splat(<f32>m);
    lo = f64x2.splat(0); hi = f64x2.splat(0);
    for (let c = 0; c < C; c += 4) {
      const d = f32x4.sub(v128.load(x + row + (<usize>c << 2)), mv);
      const d2 = f32x4.mul(d, d);
      lo = addLow(lo, d2); hi = addHigh(hi, d2);
    }
    const s = 1 / Math.sqrt(hsum64(lo, hi) / <f64>C + eps);
    const sv = f32x4.splat(<f32>s);
    for (let c = 0; c < C; c += 4) {
      const at = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + row + at), mv), sv);
      v128.store(out + row + at, f32x4.add(f32x4.mul(xhat, v128.load(weight + at)), v128.load(bias + at)));
    }
    store<f32>(mean + (<usize>n << 2), <f32>m);
    store<f32>(rstd + (<usize>n << 2), <f32>s);
  }
}

/**
 * Rows [first, first + count) of dx, and their sums of dy xhat and dy added into dwPart and
 * dbPart (C each, zeroed by the caller). dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy w.
 */
export function layerNormBackwardRows(dy: usize, x: usize, weight: usize, mean: usize, rstd: usize, dx: usize,
  dwPart: usize, dbPart: usize, first: i32, count: i32, C: i32): void {
  for (let n = first; n < first + count; n++) {
    const row = <usize>n * <usize>C << 2;
    const mv = f32x4.splat(load<f32>(mean + (<usize>n << 2)));
    const s = load<f32>(rstd + (<usize>n << 2));
    const sv = f32x4.splat(s);
    let aLo = f64x2.splat(0), aHi = f64x2.splat(0), bLo = f64x2.splat(0), bHi = f64x2.splat(0);
    for (let c = 0; c < C; c += 4) {
      const at = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + row + at), mv), sv);
      const g = v128.load(dy + row + at);
      const dxhat = f32x4.mul(g, v128.load(weight + at));
      aLo = addLow(aLo, dxhat); aHi = addHigh(aHi, dxhat);
      const p = f32x4.mul(dxhat, xhat);
      bLo = addLow(bLo, p); bHi = addHigh(bHi, p);
      v128.store(dwPart + at, f32x4.add(v128.load(dwPart + at), f32x4.mul(g, xhat)));
      v128.store(dbPart + at, f32x4.add(v128.load(dbPart + at), g));
    }
    const meanDxhat = f32x4.splat(<f32>(hsum64(aLo, aHi) / <f64>C));
    const meanDxhatXhat = f32x4.splat(<f32>(hsum64(bLo, bHi) / <f64>C));
    for (let c = 0; c < C; c += 4) {
      const at = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + row + at), mv), sv);
      const dxhat = f32x4.mul(v128.load(dy + row + at), v128.load(weight + at));
      v128.store(dx + row + at, f32x4.mul(sv, f32x4.sub(f32x4.sub(dxhat, meanDxhat), f32x4.mul(xhat, meanDxhatXhat))));
    }
  }
}
