// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// AdamW over float32 parameters, computed in float64 (two elements per f64x2) with exactly the
// operations, in the same order, of the reference kernel (packages/tensor/src/cpu/adamw.ts),
// so both give the same bits. The scalar factors come precomputed from JavaScript, as the
// reference computes them:
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + ((1 - beta2) g) g
//   p = p decay - (stepSize m) / (sqrt(v) / sqrtBiasCorrection2 + eps)
// with decay = 1 - lr weightDecay and stepSize = lr / (1 - beta1^step).

export function adamw(p: usize, g: usize, m: usize, v: usize, n: i32, beta1: f64, oneMinusBeta1: f64, beta2: f64, oneMinusBeta2: f64,
  decay: f64, stepSize: f64, sqrtBiasCorrection2: f64, eps: f64): void {
  const b1 = f64x2.splat(beta1), c1 = f64x2.splat(oneMinusBeta1);
  const b2 = f64x2.splat(beta2), c2 = f64x2.splat(oneMinusBeta2);
  const dk = f64x2.splat(decay), ss = f64x2.splat(stepSize), bc = f64x2.splat(sqrtBiasCorrection2), ep = f64x2.splat(eps);
  const pairs = n & ~1;
  for (let i = 0; i < pairs; i += 2) {
    const at = <usize>i << 2;
    const gi = f64x2.promote_low_f32x4(v128.load64_zero(g + at));
    const mi = f64x2.add(f64x2.mul(b1, f64x2.promote_low_f32x4(v128.load64_zero(m + at))), f64x2.mul(c1, gi));
    const vi = f64x2.add(f64x2.mul(b2, f64x2.promote_low_f32x4(v128.load64_zero(v + at))), f64x2.mul(f64x2.mul(c2, gi), gi));
    const decayed = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + at)), dk);
    const update = f64x2.div(f64x2.mul(ss, mi), f64x2.add(f64x2.div(f64x2.sqrt(vi), bc), ep));
    v128.store64_lane(m + at, f32x4.demote_f64x2_zero(mi), 0);
    v128.store64_lane(v + at, f32x4.demote_f64x2_zero(vi), 0);
    v128.store64_lane(p + at, f32x4.demote_f64x2_zero(f64x2.sub(decayed, update)), 0);
  }
  for (let i = pairs; i < n; i++) {
    const at = <usize>i << 2;
    const gi = <f64>load<f32>(g + at);
    const mi = beta1 * <f64>load<f32>(m + at) + oneMinusBeta1 * gi;
    const vi = beta2 * <f64>load<f32>(v + at) + oneMinusBeta2 * gi * gi;
    store<f32>(m + at, <f32>mi);
    store<f32>(v + at, <f32>vi);
    store<f32>(p + at, <f32>(<f64>load<f32>(p + at) * decay - stepSize * mi / (Math.sqrt(vi) / sqrtBiasCorrection2 + eps)));
  }
}
