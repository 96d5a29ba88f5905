// Layer norm backward, input gradient, per row:
//   xhat = (x - mean) * rstd, dxhat = dy * weight,
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
// Bindings: 0 params, 1 dx, 2 dy, 3 x, 4 weight, 5 mean, 6 rstd. One workgroup per row.
// The parameter gradients are column sums: layernorm_backward_params.wgsl.
//! include "lib_rows.wgsl"

struct Params {
  rows: u32,
  C: u32,
  dy_base: u32,
  x_base: u32,
  dx_base: u32,
  stat_base: u32,
  w_base: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> mean: array<f32>;
@group(0) @binding(6) var<storage, read> rstd: array<f32>;

var<workgroup> sum_dxhat: array<f32, WG>;
var<workgroup> sum_dxhat_xhat: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * p.groups_x;
  if (row >= p.rows) { return; }
  let t = lid.x;
  let m = mean[p.stat_base + row];
  let r = rstd[p.stat_base + row];
  let off = row * p.C;
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = t; c < p.C; c += WG) {
    let xhat = (x[p.x_base + off + c] - m) * r;
    let dxhat = dy[p.dy_base + off + c] * weight[p.w_base + c];
    s1 += dxhat;
    s2 += dxhat * xhat;
  }
  sum_dxhat[t] = s1;
  sum_dxhat_xhat[t] = s2;
  let mean_dxhat = tree_sum(&sum_dxhat, t) / f32(p.C);
  let mean_dxhat_xhat = tree_sum(&sum_dxhat_xhat, t) / f32(p.C);
  for (var c = t; c < p.C; c += WG) {
    let xhat = (x[p.x_base + off + c] - m) * r;
    let dxhat = dy[p.dy_base + off + c] * weight[p.w_base + c];
    dx[p.dx_base + off + c] = r * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat);
  }
}
