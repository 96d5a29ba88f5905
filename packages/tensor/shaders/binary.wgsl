// Binary elementwise ops with broadcasting: out[i] = apply(lhs[i], rhs[i]).
// Bindings: 0 params (lib_elementwise), 1 out (contiguous), 2 lhs, 3 rhs (strided; a broadcast
// dimension has stride 0). One invocation per output element. As in unary.wgsl,
// webgpu/elementwise.ts appends `fn apply(a: f32, b: f32) -> f32` from the op table
// (packages/tensor/src/elementwise-ops.ts): one module per op, no switch.
//! include "lib_elementwise.wgsl"
//! include "lib_math.wgsl"

override WG: u32 = 256u;

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> lhs: array<f32>;
@group(0) @binding(3) var<storage, read> rhs: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= p.count) { return; }
  out[p.bases[0] + i] = apply(lhs[strided_offset(i, 1u)], rhs[strided_offset(i, 2u)]);
}
