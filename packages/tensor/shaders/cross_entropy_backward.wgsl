// Cross-entropy backward: dlogits[i, j] = (exp(logits[i, j] - lse[i]) - [j == target[i]])
// * dloss / count, and 0 on rows whose target is ignore_index.
// Bindings: 0 params, 1 dlogits, 2 logits, 3 targets, 4 logsumexp, 5 count (1), 6 dloss (1).
// One invocation per element; the host splits the rows when logits exceed one binding.
override WG: u32 = 256u;

struct Params {
  rows: u32,
  V: u32,
  logits_base: u32,
  dlogits_base: u32,
  targets_base: u32,
  lse_base: u32,
  ignore_index: i32,
  row_width: u32,
  count_base: u32,
  dloss_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<i32>;
@group(0) @binding(4) var<storage, read> logsumexp: array<f32>;
@group(0) @binding(5) var<storage, read> count: array<f32>;
@group(0) @binding(6) var<storage, read> dloss: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * p.row_width;
  if (e >= p.rows * p.V) { return; }
  let i = e / p.V;
  let j = e % p.V;
  let tgt = targets[p.targets_base + i];
  let n = count[p.count_base];
  var g = 0.0;
  if (tgt != p.ignore_index && n > 0.0) {
    let prob = exp(logits[p.logits_base + e] - logsumexp[p.lse_base + i]);
    g = (prob - select(0.0, 1.0, i32(j) == tgt)) * dloss[p.dloss_base] / n;
  }
  dlogits[p.dlogits_base + e] = g;
}
