// Softmax over rows of length n, optionally causal: row r of each (tq, tk) block sees the
// columns j <= r % tq + tk - tq (tk - tq > 0 when queries are the newest of a KV cache).
// Masked entries come out as exactly 0.
// Bindings: 0 params, 1 out, 2 x. One workgroup per row (lib_rows): max, then sum of exp,
// then the write, each pass striding over the row so any row length works.
//! include "lib_rows.wgsl"

struct Params {
  rows: u32,
  n: u32,
  x_base: u32,
  out_base: u32,
  causal: u32,     // 1 when masked
  tq: u32,
  tk: u32,
  row0: u32,       // index of this dispatch's first row in the whole tensor (for the mask)
  groups_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

var<workgroup> row_max: array<f32, WG>;
var<workgroup> row_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * p.groups_x;
  if (row >= p.rows) { return; }
  let t = lid.x;
  var visible = p.n;
  if (p.causal == 1u) {
    visible = min(p.n, ((p.row0 + row) % p.tq) + p.tk - p.tq + 1u);
  }
  let xb = p.x_base + row * p.n;
  let ob = p.out_base + row * p.n;
  var m = -3.4028234e38;
  for (var j = t; j < visible; j += WG) { m = max(m, x[xb + j]); }
  row_max[t] = m;
  let mx = tree_max(&row_max, t);
  var s = 0.0;
  for (var j = t; j < visible; j += WG) { s += exp(x[xb + j] - mx); }
  row_sum[t] = s;
  let inv = 1.0 / tree_sum(&row_sum, t);
  for (var j = t; j < p.n; j += WG) {
    out[ob + j] = select(0.0, exp(x[xb + j] - mx) * inv, j < visible);
  }
}
