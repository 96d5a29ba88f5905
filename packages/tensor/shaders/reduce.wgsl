// Reduction over the middle axis of x seen as (outer, R, inner): sum, mean, max, argmax.
// Bindings: 0 params, 1 out (32-bit words: f32 bits, or the i32 index for argmax), 2 x.
// One workgroup per output element (o, i); its WG invocations stride over R, then combine in
// a tree in workgroup memory. OP: 0 sum, 1 max, 2 argmax (mean is sum with scale = 1/R).
// Two passes for few outputs over a long axis: with parts > 1, x's axis is cut into `parts`
// pieces of R rows (the last one shorter: R_total in all) and output (o, k, i) sums piece k
// into out[o * out_outer_stride + k * inner + i], many workgroups per output; the host then
// reduces those partials with parts = 1.
// NOTE: argmax keeps the first index of the maximum, as PyTorch does.
override OP: u32;
const WG: u32 = 256u;

struct Params {
  outer: u32,
  R: u32,
  inner: u32,
  x_base: u32,
  x_outer_stride: u32,   // elements between consecutive o in x (R * inner unless split)
  out_base: u32,
  out_outer_stride: u32, // elements between consecutive o in out
  groups_x: u32,         // workgroups per row of the 2-D folded dispatch
  scale: f32,
  parts: u32,
  R_total: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

var<workgroup> partial_value: array<f32, WG>;
var<workgroup> partial_index: array<u32, WG>;

// (v2, i2) replaces (v1, i1) when larger, or equal with a smaller index.
fn better(v1: f32, i1: u32, v2: f32, i2: u32) -> bool {
  return v2 > v1 || (v2 == v1 && i2 < i1);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let out_id = wg.x + wg.y * p.groups_x;
  if (out_id >= p.outer * p.parts * p.inner) { return; }
  let o = out_id / (p.parts * p.inner);
  let k = (out_id / p.inner) % p.parts;
  let i = out_id % p.inner;
  let base = p.x_base + o * p.x_outer_stride + k * p.R * p.inner + i;
  let rows = min(p.R, p.R_total - k * p.R);
  let t = lid.x;
  var value = 0.0;
  var index = 0xffffffffu;
  if (OP != 0u) { value = -3.4028234e38; }
  for (var r = t; r < rows; r += WG) {
    let v = x[base + r * p.inner];
    if (OP == 0u) {
      value += v;
    } else if (index == 0xffffffffu || better(value, index, v, r)) {
      value = v;
      index = r;
    }
  }
  partial_value[t] = value;
  partial_index[t] = index;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (t < stride) {
      let v2 = partial_value[t + stride];
      let i2 = partial_index[t + stride];
      if (OP == 0u) {
        partial_value[t] += v2;
      } else if (i2 != 0xffffffffu && (partial_index[t] == 0xffffffffu || better(partial_value[t], partial_index[t], v2, i2))) {
        partial_value[t] = v2;
        partial_index[t] = i2;
      }
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    let at = p.out_base + o * p.out_outer_stride + k * p.inner + i;
    if (OP == 2u) {
      out[at] = partial_index[0];
    } else {
      out[at] = bitcast<u32>(partial_value[0] * p.scale);
    }
  }
}
