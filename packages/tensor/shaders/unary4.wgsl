// unary.wgsl for contiguous operands, four elements an invocation: out[i] = apply(x[i], scalar)
// on each lane of a vec4. Bindings: 0 params (lib_elementwise4), 1 out, 2 src. As in unary.wgsl,
// webgpu/elementwise.ts appends the op's scalar `fn apply(x: f32, s: f32) -> f32`.
//! include "lib_elementwise4.wgsl"
//! include "lib_math.wgsl"

override WG: u32 = 256u;

@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> src: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= p.count) { return; }
  let x = src[p.bases[1] + i];
  let s = p.scalar;
  out[p.bases[0] + i] = vec4<f32>(apply(x.x, s), apply(x.y, s), apply(x.z, s), apply(x.w, s));
}
