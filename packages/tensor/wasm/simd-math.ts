// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Helpers the row kernels share: exp of four float32 lanes, loads and stores of the last
// 1-3 elements of a row, and float64 sums of float32 vectors.

// @ts-ignore: decorator
@inline export function loadTail(p: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  if (count > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline export function storeTail(p: usize, v: v128, count: i32): void {
  if (count > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Lanes [0, count) of v kept, the others replaced by `fill`. */
// @ts-ignore: decorator
@inline export function keepLanes(v: v128, count: i32, fill: f32): v128 {
  const lane = i32x4(0, 1, 2, 3);
  return v128.bitselect(v, f32x4.splat(fill), i32x4.lt_s(lane, i32x4.splat(count)));
}

/**
 * exp of four float32 lanes, Cephes' expf: x = n ln2 + r (ln2 in two parts, so r is exact),
 * e^r by a degree-6 polynomial on |r| <= ln2 / 2, times 2^n built in the exponent bits.
 * About 1 ulp. Below -87.3 (where e^x is subnormal) the result is 0; NaN stays NaN. Inputs
 * here are x - max <= 0, so the overflow end is clamped, not handled.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const c = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.nearest(f32x4.mul(c, f32x4.splat(1.44269504088896341)));
  const r = f32x4.sub(f32x4.sub(c, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  const e = f32x4.mul(y, scale);
  const under = f32x4.lt(x, f32x4.splat(-87.3));
  const nan = f32x4.ne(x, x);
  return v128.bitselect(x, v128.andnot(e, under), nan);
}

/** acc + the four lanes of v, in float64 (two f64x2 accumulators in one pair). */
// @ts-ignore: decorator
@inline export function addLow(acc: v128, v: v128): v128 {
  return f64x2.add(acc, f64x2.promote_low_f32x4(v));
}

// @ts-ignore: decorator
@inline export function addHigh(acc: v128, v: v128): v128 {
  return f64x2.add(acc, f64x2.promote_low_f32x4(i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)));
}

// @ts-ignore: decorator
@inline export function hsum64(a: v128, b: v128): f64 {
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

// @ts-ignore: decorator
@inline export function hmax32(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** The largest of x[0..n), -Infinity for n = 0 (a NaN anywhere gives NaN, as Math.max). */
export function rowMax(x: usize, n: i32): f32 {
  let m = f32x4.splat(-Infinity);
  const n4 = n & ~3;
  for (let j = 0; j < n4; j += 4) m = f32x4.max(m, v128.load(x + (<usize>j << 2)));
  if (n4 < n) m = f32x4.max(m, keepLanes(loadTail(x + (<usize>n4 << 2), n - n4), n - n4, -Infinity));
  return hmax32(m);
}

/** sum of exp(x[j] - shift) over [0, n), accumulated in float64; with `out`, also writes each exp there. */
export function sumExp(x: usize, n: i32, shift: f32, out: usize): f64 {
  const s = f32x4.splat(shift);
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  const n4 = n & ~3;
  for (let j = 0; j < n4; j += 4) {
    const at = <usize>j << 2;
    const e = exp4(f32x4.sub(v128.load(x + at), s));
    if (out) v128.store(out + at, e);
    lo = addLow(lo, e); hi = addHigh(hi, e);
  }
  if (n4 < n) {
    const at = <usize>n4 << 2;
    const e = keepLanes(exp4(f32x4.sub(loadTail(x + at, n - n4), s)), n - n4, 0);
    if (out) storeTail(out + at, e, n - n4);
    lo = addLow(lo, e); hi = addHigh(hi, e);
  }
  return hsum64(lo, hi);
}

/** out[j] = x[j] * k over [0, n). */
export function scaleRow(x: usize, out: usize, n: i32, k: f32): void {
  const kv = f32x4.splat(k);
  const n4 = n & ~3;
  for (let j = 0; j < n4; j += 4) {
    const at = <usize>j << 2;
    v128.store(out + at, f32x4.mul(v128.load(x + at), kv));
  }
  if (n4 < n) {
    const at = <usize>n4 << 2;
    storeTail(out + at, f32x4.mul(loadTail(x + at, n - n4), kv), n - n4);
  }
}

/** Writes n zeros from out. */
// @ts-ignore: decorator
@inline export function zeroRow(out: usize, n: i32): void {
  if (n > 0) memory.fill(out, 0, <usize>n << 2);
}
