// Multi-tensor AdamW: adamw.wgsl's step on up to MAX_ENTRIES tensors in one dispatch, the same
// arithmetic in the same order (so the same bits). WGSL cannot index bindings, so the host
// (webgpu/adamw.ts) appends the storage bindings s0..s<n-1> (binding 1 + k) and `ld`/`st`,
// which pick one by a switch; each entry names the slots of its param, grad, m and v.
// Entry e owns workgroups [first_e, first_{e+1}); one invocation per element.
override WG: u32 = 256u;

struct Params {
  groups_x: u32,         // workgroups per row of the 2-D folded dispatch
  entries: u32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,  // computed on the host in float64, as adamw.wgsl's
  one_minus_beta2: f32,
  step_size: f32,        // lr / (1 - beta1^t)
  sqrt_bias_correction2: f32,
  eps: f32,
  // Entry e: table[2e] = (first workgroup, count, bits of its decay 1 - lr * wd,
  // slots param | grad << 8 | m << 16 | v << 24); table[2e + 1] = bases (param, grad, m, v).
  table: array<vec4<u32>, 24>,
}

@group(0) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let w = wg.x + wg.y * p.groups_x;
  var e = 0u;
  for (var k = 1u; k < p.entries; k++) {
    if (w >= p.table[2u * k].x) { e = k; }
  }
  let head = p.table[2u * e];
  let base = p.table[2u * e + 1u];
  let i = (w - head.x) * WG + lid.x;
  if (i >= head.y) { return; }
  let ps = head.w & 0xffu;
  let gs = (head.w >> 8u) & 0xffu;
  let ms = (head.w >> 16u) & 0xffu;
  let vs = head.w >> 24u;
  let g = ld(gs, base.y + i);
  let mi = p.beta1 * ld(ms, base.z + i) + p.one_minus_beta1 * g;
  let vi = p.beta2 * ld(vs, base.w + i) + p.one_minus_beta2 * g * g;
  st(ms, base.z + i, mi);
  st(vs, base.w + i, vi);
  let decayed = ld(ps, base.x + i) * bitcast<f32>(head.z);
  st(ps, base.x + i, decayed - p.step_size * mi / (sqrt(vi) / p.sqrt_bias_correction2 + p.eps));
}
