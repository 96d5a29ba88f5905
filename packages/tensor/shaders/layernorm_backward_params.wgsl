// Layer norm backward, parameter gradients: column sums over rows
//   dweight[c] = sum_r dy[r, c] * xhat[r, c],  dbias[c] = sum_r dy[r, c].
// Bindings: 0 params, 1 dweight, 2 dbias, 3 dy, 4 x, 5 mean, 6 rstd.
// One invocation per column, walking the rows of this dispatch: neighbouring invocations read
// neighbouring addresses. The host caps rows per dispatch (llvmpipe's 65535-iteration loop
// cap) and sets ACCUMULATE on every dispatch after the first.
override WG: u32 = 256u;
override ACCUMULATE: bool = false;

struct Params {
  rows: u32,
  C: u32,
  dy_base: u32,
  x_base: u32,
  stat_base: u32,
  dw_base: u32,
  db_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(2) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read> mean: array<f32>;
@group(0) @binding(6) var<storage, read> rstd: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var dw = 0.0;
  var db = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let g = dy[p.dy_base + r * p.C + c];
    let xhat = (x[p.x_base + r * p.C + c] - mean[p.stat_base + r]) * rstd[p.stat_base + r];
    dw += g * xhat;
    db += g;
  }
  if (ACCUMULATE) {
    dw += dweight[p.dw_base + c];
    db += dbias[p.db_base + c];
  }
  dweight[p.dw_base + c] = dw;
  dbias[p.db_base + c] = db;
}
