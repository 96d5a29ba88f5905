// Unary elementwise ops and their scalar forms: out[i] = apply(x[i], scalar).
// Bindings: 0 params (lib_elementwise), 1 out (contiguous), 2 src (strided).
// One invocation per output element. `apply` is not here: webgpu/elementwise.ts appends
// `fn apply(x: f32, s: f32) -> f32 { return <expression>; }` with the op's WGSL expression from
// the op table (packages/tensor/src/elementwise-ops.ts), so each op compiles to its own module
// with no branch on the op at run time and no default case to fall into.
//! include "lib_elementwise.wgsl"
//! include "lib_math.wgsl"

override WG: u32 = 256u;

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= p.count) { return; }
  out[p.bases[0] + i] = apply(src[strided_offset(i, 1u)], p.scalar);
}
