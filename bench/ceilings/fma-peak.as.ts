// AssemblyScript, compiled by bench/ceilings.mjs: WebAssembly SIMD-128's multiply-add ceiling
// per core. Twelve independent chains of f32x4.relaxed_madd (a fused multiply-add on x86 with
// FMA), or of f32x4.mul + f32x4.add in the plain-SIMD build; returns a lane sum so nothing is
// optimised away. 2 * 4 * 12 floating-point operations per iteration.

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

export function peak(iterations: i32): f32 {
  const x = f32x4.splat(0.9999999);
  const y = f32x4.splat(1e-7);
  let a0 = f32x4.splat(1.0), a1 = f32x4.splat(1.01), a2 = f32x4.splat(1.02), a3 = f32x4.splat(1.03);
  let a4 = f32x4.splat(1.04), a5 = f32x4.splat(1.05), a6 = f32x4.splat(1.06), a7 = f32x4.splat(1.07);
  let a8 = f32x4.splat(1.08), a9 = f32x4.splat(1.09), a10 = f32x4.splat(1.1), a11 = f32x4.splat(1.11);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(a0, x, y); a1 = madd(a1, x, y); a2 = madd(a2, x, y); a3 = madd(a3, x, y);
    a4 = madd(a4, x, y); a5 = madd(a5, x, y); a6 = madd(a6, x, y); a7 = madd(a7, x, y);
    a8 = madd(a8, x, y); a9 = madd(a9, x, y); a10 = madd(a10, x, y); a11 = madd(a11, x, y);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)),
    f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}
