// binary.wgsl for contiguous operands of one shape (no broadcasting), four elements an
// invocation. Bindings: 0 params (lib_elementwise4), 1 out, 2 lhs, 3 rhs. As in binary.wgsl,
// webgpu/elementwise.ts appends the op's scalar `fn apply(a: f32, b: f32) -> f32`.
//! include "lib_elementwise4.wgsl"
//! include "lib_math.wgsl"

override WG: u32 = 256u;

@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> lhs: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> rhs: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= p.count) { return; }
  let a = lhs[p.bases[1] + i];
  let b = rhs[p.bases[2] + i];
  out[p.bases[0] + i] = vec4<f32>(apply(a.x, b.x), apply(a.y, b.y), apply(a.z, b.z), apply(a.w, b.w));
}
