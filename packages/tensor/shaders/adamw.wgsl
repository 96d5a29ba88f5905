// Fused AdamW step, as torch.optim.AdamW: decoupled weight decay, then the bias-corrected
// Adam update. The host passes lr / (1 - beta1^t) as step_size and sqrt(1 - beta2^t).
// Bindings: 0 params, 1 param, 2 m, 3 v (all updated in place), 4 grad.
// One invocation per element.
override WG: u32 = 256u;

struct Params {
  count: u32,
  row_width: u32,
  decay: f32,       // 1 - lr * weight_decay
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32, // computed on the host in float64: 1 - f32(0.999) is 1.3e-5 off
  one_minus_beta2: f32,
  step_size: f32,
  sqrt_bias_correction2: f32,
  eps: f32,
  param_base: u32,
  m_base: u32,
  v_base: u32,
  grad_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> grad: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.row_width;
  if (i >= p.count) { return; }
  let g = grad[p.grad_base + i];
  let mi = p.beta1 * m[p.m_base + i] + p.one_minus_beta1 * g;
  let vi = p.beta2 * v[p.v_base + i] + p.one_minus_beta2 * g * g;
  m[p.m_base + i] = mi;
  v[p.v_base + i] = vi;
  let decayed = param[p.param_base + i] * p.decay;
  param[p.param_base + i] = decayed - p.step_size * mi / (sqrt(vi) / p.sqrt_bias_correction2 + p.eps);
}
