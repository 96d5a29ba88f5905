// Strided copy between any two views (a contiguous copy, or writing into a slice), as raw
// 32-bit words so float32 and int32 share it. Bindings: 0 params (lib_elementwise), 1 out, 2 x.
//! include "lib_elementwise.wgsl"

override WG: u32 = 256u;

@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= p.count) { return; }
  out[strided_offset(i, 0u)] = x[strided_offset(i, 1u)];
}
