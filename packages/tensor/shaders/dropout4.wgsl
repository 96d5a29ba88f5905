// dropout.wgsl for four elements an invocation (two Threefry calls, the same words: element i
// keeps word i & 1 of Threefry(key, (i >> 1, stream))), read and written as vec4s. The host
// starts each dispatch at a multiple of 4 elements and runs the last count % 4 through
// dropout.wgsl. Bindings: 0 params, 1 out, 2 x, 3 residual (bound to x when unused).
//! include "lib_threefry.wgsl"
override WG: u32 = 256u;
override RESIDUAL: bool = false;

struct Params {
  count: u32,       // vec4s in this dispatch
  first_pair: u32,  // (i >> 1) of this dispatch's first element
  x_base: u32,      // vec4 offsets within the bindings
  out_base: u32,
  key: vec2<u32>,
  stream: u32,
  threshold: u32,
  scale: f32,
  row_width: u32,
  residual_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> residual: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.row_width;
  if (i >= p.count) { return; }
  let lo = threefry2x32(p.key, vec2<u32>(p.first_pair + 2u * i, p.stream));
  let hi = threefry2x32(p.key, vec2<u32>(p.first_pair + 2u * i + 1u, p.stream));
  let keep = vec4<bool>(lo.x >= p.threshold, lo.y >= p.threshold, hi.x >= p.threshold, hi.y >= p.threshold);
  var y = select(vec4<f32>(0.0), x[p.x_base + i] * p.scale, keep);
  if (RESIDUAL) { y = residual[p.residual_base + i] + y; }
  out[p.out_base + i] = y;
}
