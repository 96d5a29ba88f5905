// Layer norm backward, input gradient, per row:
//   xhat = (x - mean) * rstd, dxhat = dy * weight,
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
// With ACCUMULATE, dx = acc + that (binding 8: the residual stream's other gradient, added where
// the two meet, so no separate add kernel reads and writes dx again).
// Bindings: 0 params, 1 dx, 2 dy, 3 x, 4 weight, 5 mean, 6 rstd, 7 partial, 8 acc (a dummy
// without ACCUMULATE).
// Workgroups [0, rows): one row each, its dx. The workgroups after them compute the first pass
// of the parameter gradients (column sums over rows, dweight = sum dy * xhat, dbias = sum dy)
// in the same dispatch: workgroup b covers 64 columns of a block of BLOCK_ROWS rows, 4 lanes
// of 64 invocations each summing every 4th row, and writes
//   partial[block * C + c] (dweight's) and partial[(blocks + block) * C + c] (dbias's);
// layernorm_backward_params.wgsl sums the blocks. Many workgroups share the column sums
// where one invocation per column walking every row left a GPU idle.
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
  col_groups: u32, // ceil(C / 64)
  blocks: u32,     // ceil(rows / BLOCK_ROWS)
  acc_base: u32,
}

override ACCUMULATE: bool = false;

const BLOCK_ROWS: u32 = 32u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> mean: array<f32>;
@group(0) @binding(6) var<storage, read> rstd: array<f32>;
@group(0) @binding(7) var<storage, read_write> partial: array<f32>;
@group(0) @binding(8) var<storage, read> acc: array<f32>;

var<workgroup> sum_dxhat: array<f32, WG>;
var<workgroup> sum_dxhat_xhat: array<f32, WG>;
var<workgroup> col_dw: array<f32, WG>;
var<workgroup> col_db: array<f32, WG>;

// Workgroup b (after the rows): 64 columns x BLOCK_ROWS rows of the parameter gradients.
fn column_block(b: u32, t: u32) {
  let block = b / p.col_groups;
  let c = (b % p.col_groups) * 64u + t % 64u;
  let lane = t / 64u;
  var dw = 0.0;
  var db = 0.0;
  if (c < p.C) {
    let end = min(p.rows, (block + 1u) * BLOCK_ROWS);
    for (var r = block * BLOCK_ROWS + lane; r < end; r += 4u) {
      let g = dy[p.dy_base + r * p.C + c];
      let xhat = (x[p.x_base + r * p.C + c] - mean[p.stat_base + r]) * rstd[p.stat_base + r];
      dw += g * xhat;
      db += g;
    }
  }
  col_dw[t] = dw;
  col_db[t] = db;
  workgroupBarrier();
  if (lane == 0u && c < p.C) {
    partial[block * p.C + c] = ((col_dw[t] + col_dw[t + 64u]) + col_dw[t + 128u]) + col_dw[t + 192u];
    partial[(p.blocks + block) * p.C + c] = ((col_db[t] + col_db[t + 64u]) + col_db[t + 128u]) + col_db[t + 192u];
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * p.groups_x;
  let t = lid.x;
  if (row >= p.rows) {
    if (row - p.rows < p.col_groups * p.blocks) { column_block(row - p.rows, t); }
    return;
  }
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
    let g = r * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat);
    if (ACCUMULATE) {
      dx[p.dx_base + off + c] = acc[p.acc_base + off + c] + g;
    } else {
      dx[p.dx_base + off + c] = g;
    }
  }
}
