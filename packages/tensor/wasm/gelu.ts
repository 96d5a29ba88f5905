// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// GPT-2's GELU (tanh approximation) and its backward over contiguous float32 arrays, four
// elements per f32x4. tanh is Eigen's rational approximation (x P(x^2) / Q(x^2), degree 13/6,
// input clamped to +-7.9 where float32 tanh is already +-1): a few ulp from the true value,
// against the reference's float64 Math.tanh (the tests bound the difference).

import { loadTail, storeTail } from './simd-math';

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const CUBIC: f32 = 0.044715;

// @ts-ignore: decorator
@inline function step(acc: v128, x2: v128, c: f32): v128 { // Horner: acc x^2 + c
  return f32x4.add(f32x4.mul(acc, x2), f32x4.splat(c));
}

function tanh4(u: v128): v128 {
  const x = f32x4.min(f32x4.max(u, f32x4.splat(-7.90531110763549805)), f32x4.splat(7.90531110763549805));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = step(p, x2, 2.00018790482477e-13);
  p = step(p, x2, -8.60467152213735e-11);
  p = step(p, x2, 5.12229709037114e-8);
  p = step(p, x2, 1.48572235717979e-5);
  p = step(p, x2, 6.37261928875436e-4);
  p = step(p, x2, 4.89352455891786e-3);
  p = f32x4.mul(p, x);
  let q = f32x4.splat(1.19825839466702e-6);
  q = step(q, x2, 1.18534705686654e-4);
  q = step(q, x2, 2.26843463243900e-3);
  q = step(q, x2, 4.89352518554385e-3);
  // Below 4e-4, tanh(x) = x to float32 precision (and the quotient loses digits).
  const tiny = f32x4.lt(f32x4.abs(x), f32x4.splat(0.0004));
  return v128.bitselect(x, f32x4.div(p, q), tiny);
}

// u = sqrt(2/pi) (x + 0.044715 x^3)
// @ts-ignore: decorator
@inline function inner(x: v128): v128 {
  return f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), f32x4.add(x, f32x4.mul(f32x4.splat(CUBIC), f32x4.mul(x, f32x4.mul(x, x)))));
}

// @ts-ignore: decorator
@inline function geluOf(x: v128): v128 {
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1), tanh4(inner(x))));
}

// dy (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2)), t = tanh(u)
// @ts-ignore: decorator
@inline function geluGrad(x: v128, dy: v128): v128 {
  const t = tanh4(inner(x));
  const half = f32x4.splat(0.5);
  const slope = f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(3 * CUBIC), f32x4.mul(x, x))));
  const d = f32x4.add(f32x4.mul(half, f32x4.add(f32x4.splat(1), t)), f32x4.mul(f32x4.mul(f32x4.mul(half, x), f32x4.sub(f32x4.splat(1), f32x4.mul(t, t))), slope));
  return f32x4.mul(dy, d);
}

/** out[i] = gelu(x[i]) for i in [0, n). */
export function gelu(x: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, geluOf(v128.load(x + at)));
  }
  if (n4 < n) {
    const at = <usize>n4 << 2;
    storeTail(out + at, geluOf(loadTail(x + at, n - n4)), n - n4);
  }
}

/** dx[i] = dy[i] gelu'(x[i]) for i in [0, n). */
export function geluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    v128.store(dx + at, geluGrad(v128.load(x + at), v128.load(dy + at)));
  }
  if (n4 < n) {
    const at = <usize>n4 << 2;
    const count = n - n4;
    storeTail(dx + at, geluGrad(loadTail(x + at, count), loadTail(dy + at, count)), count);
  }
}
