// Dropout: out[i] = x[i] * scale if bits(i) >= threshold else 0, where bits(i) is word i & 1 of
// Threefry(key, (i >> 1, stream)) and i counts from the start of the whole tensor. The same
// mask serves the backward (applied to dy). threshold = round(p * 2^32), scale = 1 / (1 - p).
// RESIDUAL: out[i] = residual[i] + that (a residual add fused after dropout: the same bits).
// Bindings: 0 params, 1 out, 2 x, 3 residual (bound to x when unused). One invocation per pair
// of elements (one Threefry call).
//! include "lib_threefry.wgsl"
override WG: u32 = 256u;
override RESIDUAL: bool = false;

struct Params {
  count: u32,       // elements in this dispatch (the host starts dispatches at even i)
  first_pair: u32,  // (i >> 1) of this dispatch's first element
  x_base: u32,
  out_base: u32,
  key: vec2<u32>,
  stream: u32,
  threshold: u32,
  scale: f32,
  row_width: u32,
  residual_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;

fn finish(at: u32, dropped: f32) -> f32 {
  if (RESIDUAL) { return residual[p.residual_base + at] + dropped; }
  return dropped;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pair = gid.x + gid.y * p.row_width;
  let i = pair * 2u;
  if (i >= p.count) { return; }
  let bits = threefry2x32(p.key, vec2<u32>(p.first_pair + pair, p.stream));
  out[p.out_base + i] = finish(i, select(0.0, x[p.x_base + i] * p.scale, bits.x >= p.threshold));
  if (i + 1u < p.count) {
    out[p.out_base + i + 1u] = finish(i + 1u, select(0.0, x[p.x_base + i + 1u] * p.scale, bits.y >= p.threshold));
  }
}
