// Numerics shared by kernels: GPT-2's tanh-GELU and its derivative, a safe tanh, real pow.
const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_CUBIC: f32 = 0.044715;

// tanh that stays finite: some drivers compute tanh through exp and give NaN for |x| > ~44.
// tanh(10) rounds to 1 in f32, so clamping loses nothing.
fn safe_tanh(x: f32) -> f32 {
  return tanh(clamp(x, -10.0, 10.0));
}

fn gelu(x: f32) -> f32 {
  return 0.5 * x * (1.0 + safe_tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)));
}

fn gelu_derivative(x: f32) -> f32 {
  let t = safe_tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
}

// A quiet NaN at run time (a constant NaN is a WGSL compile error).
fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// x^y as JavaScript's Math.pow for real results: WGSL's pow is undefined for x < 0, so
// negative bases with integer exponents go through |x| and the exponent's parity.
fn pow_real(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (x >= 0.0) { return pow(x, y); }
  if (y != round(y)) { return nan_f32(); } // as Math.pow
  let magnitude = pow(-x, y);
  if (abs(y % 2.0) == 1.0) { return -magnitude; }
  return magnitude;
}
