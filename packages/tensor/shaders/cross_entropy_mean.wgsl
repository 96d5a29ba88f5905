// Cross-entropy's final step: loss = sum(row_loss) / sum(counted) (NaN when no row counts, as
// PyTorch), and the count itself for the backward. One workgroup strides over the N rows.
// Bindings: 0 params, 1 loss (1), 2 count (1), 3 row_loss (N), 4 counted (N).
//! include "lib_rows.wgsl"
//! include "lib_math.wgsl"

struct Params {
  N: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> loss: array<f32>;
@group(0) @binding(2) var<storage, read_write> count: array<f32>;
@group(0) @binding(3) var<storage, read> row_loss: array<f32>;
@group(0) @binding(4) var<storage, read> counted: array<f32>;

var<workgroup> loss_sum: array<f32, WG>;
var<workgroup> count_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  var s = 0.0;
  var n = 0.0;
  for (var i = t; i < p.N; i += WG) {
    s += row_loss[i];
    n += counted[i];
  }
  loss_sum[t] = s;
  count_sum[t] = n;
  let total = tree_sum(&loss_sum, t);
  let rows = tree_sum(&count_sum, t);
  if (t == 0u) {
    loss[0] = select(nan_f32(), total / rows, rows > 0.0);
    count[0] = rows;
  }
}
