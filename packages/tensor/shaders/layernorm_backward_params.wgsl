// Layer norm backward, parameter gradients, second pass: sums the blocks' partial column sums
// that layernorm_backward.wgsl wrote (dweight's, then dbias's, each (blocks, C)):
//   dweight[c] = sum_b partial[b * C + c],  dbias[c] = sum_b partial[(blocks + b) * C + c].
// Bindings: 0 params, 1 dweight, 2 dbias, 3 partial. One invocation per column; neighbouring
// invocations read neighbouring addresses. The host sets ACCUMULATE on every dispatch after the
// first when the rows come in several parts.
override WG: u32 = 256u;
override ACCUMULATE: bool = false;

struct Params {
  blocks: u32,
  C: u32,
  dw_base: u32,
  db_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(2) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(3) var<storage, read> partial: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var dw = 0.0;
  var db = 0.0;
  for (var b = 0u; b < p.blocks; b++) {
    dw += partial[b * p.C + c];
    db += partial[(p.blocks + b) * p.C + c];
  }
  if (ACCUMULATE) {
    dw += dweight[p.dw_base + c];
    db += dbias[p.db_base + c];
  }
  dweight[p.dw_base + c] = dw;
  dbias[p.db_base + c] = db;
}
