// Layer norm forward over rows of C channels; writes the caches mean and rstd (llm.c style).
// Two passes over the row (mean, then the centred variance) for accuracy.
// Bindings: 0 params, 1 out, 2 mean, 3 rstd, 4 x, 5 weight, 6 bias. One workgroup per row.
//! include "lib_rows.wgsl"

struct Params {
  rows: u32,
  C: u32,
  x_base: u32,
  out_base: u32,
  stat_base: u32,  // of mean and rstd (the same row index)
  w_base: u32,
  b_base: u32,
  groups_x: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read> weight: array<f32>;
@group(0) @binding(6) var<storage, read> bias: array<f32>;

var<workgroup> row_sum: array<f32, WG>;
var<workgroup> row_sq: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * p.groups_x;
  if (row >= p.rows) { return; }
  let t = lid.x;
  let xb = p.x_base + row * p.C;
  var s = 0.0;
  for (var c = t; c < p.C; c += WG) { s += x[xb + c]; }
  row_sum[t] = s;
  let m = tree_sum(&row_sum, t) / f32(p.C);
  var q = 0.0;
  for (var c = t; c < p.C; c += WG) { let d = x[xb + c] - m; q += d * d; }
  row_sq[t] = q;
  let r = inverseSqrt(tree_sum(&row_sq, t) / f32(p.C) + p.eps);
  let ob = p.out_base + row * p.C;
  for (var c = t; c < p.C; c += WG) {
    out[ob + c] = (x[xb + c] - m) * r * weight[p.w_base + c] + bias[p.b_base + c];
  }
  if (t == 0u) {
    mean[p.stat_base + row] = m;
    rstd[p.stat_base + row] = r;
  }
}
