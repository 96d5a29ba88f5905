// copy.wgsl for contiguous views, 16 bytes an invocation, as raw 32-bit words (float32 and
// int32). Bindings: 0 params (lib_elementwise4), 1 out, 2 x.
//! include "lib_elementwise4.wgsl"

override WG: u32 = 256u;

@group(0) @binding(1) var<storage, read_write> out: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= p.count) { return; }
  out[p.bases[0] + i] = x[p.bases[1] + i];
}
