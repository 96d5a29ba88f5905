// Fused cross-entropy, per row: logsumexp of the logits and the row's loss
// lse - logits[target] (0 and not counted when target == ignore_index; NaN when the target is
// out of range, since a kernel cannot throw). cross_entropy_mean.wgsl averages the rows.
// Bindings: 0 params, 1 logsumexp (N), 2 row_loss (N), 3 counted (N, 0/1), 4 logits, 5 targets.
// One workgroup per row (lib_rows): max, then sum of exp.
//! include "lib_rows.wgsl"
//! include "lib_math.wgsl"

struct Params {
  rows: u32,
  V: u32,
  logits_base: u32,
  targets_base: u32,
  row_base: u32,    // of this dispatch's first row in logsumexp / row_loss / counted
  ignore_index: i32,
  groups_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> logsumexp: array<f32>;
@group(0) @binding(2) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> counted: array<f32>;
@group(0) @binding(4) var<storage, read> logits: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<i32>;

var<workgroup> row_max: array<f32, WG>;
var<workgroup> row_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * p.groups_x;
  if (row >= p.rows) { return; }
  let t = lid.x;
  let xb = p.logits_base + row * p.V;
  var m = -3.4028234e38;
  for (var j = t; j < p.V; j += WG) { m = max(m, logits[xb + j]); }
  row_max[t] = m;
  let mx = tree_max(&row_max, t);
  var s = 0.0;
  for (var j = t; j < p.V; j += WG) { s += exp(logits[xb + j] - mx); }
  row_sum[t] = s;
  let lse = mx + log(tree_sum(&row_sum, t));
  if (t == 0u) {
    let tgt = targets[p.targets_base + row];
    let at = p.row_base + row;
    logsumexp[at] = lse;
    if (tgt == p.ignore_index) {
      row_loss[at] = 0.0;
      counted[at] = 0.0;
    } else if (tgt < 0 || u32(tgt) >= p.V) {
      row_loss[at] = nan_f32();
      counted[at] = 1.0;
    } else {
      row_loss[at] = lse - logits[xb + u32(tgt)];
      counted[at] = 1.0;
    }
  }
}
