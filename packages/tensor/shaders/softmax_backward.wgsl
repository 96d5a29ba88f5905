// Softmax backward per row: dx = y * (dy - sum(dy * y)).
// Bindings: 0 params, 1 dx, 2 y, 3 dy. One workgroup per row (lib_rows).
//! include "lib_rows.wgsl"

struct Params {
  rows: u32,
  n: u32,
  y_base: u32,
  dy_base: u32,
  dx_base: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;

var<workgroup> row_dot: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * p.groups_x;
  if (row >= p.rows) { return; }
  let t = lid.x;
  let off = row * p.n;
  var s = 0.0;
  for (var j = t; j < p.n; j += WG) { s += y[p.y_base + off + j] * dy[p.dy_base + off + j]; }
  row_dot[t] = s;
  let dot = tree_sum(&row_dot, t);
  for (var j = t; j < p.n; j += WG) {
    dx[p.dx_base + off + j] = y[p.y_base + off + j] * (dy[p.dy_base + off + j] - dot);
  }
}
