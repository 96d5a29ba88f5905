// Shared by the vec4 elementwise kernels (unary4, binary4, copy4): contiguous operands whose
// first elements sit at multiples of 4, read and written 16 bytes at a time (one vec4 per
// invocation). The host runs the last count % 4 elements through the strided scalar kernels.
struct Params {
  bases: vec4<u32>,  // vec4 offset of each operand within its binding (out, first, second)
  count: u32,        // vec4s in this dispatch
  scalar: f32,
  row_width: u32,    // invocations per row of the 2-D folded dispatch
}

@group(0) @binding(0) var<uniform> p: Params;

// The flat index of this invocation in a dispatch folded to 2-D.
fn flat_index(gid: vec3<u32>) -> u32 {
  return gid.x + gid.y * p.row_width;
}
