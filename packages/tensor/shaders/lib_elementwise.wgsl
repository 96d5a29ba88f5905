// Shared by the elementwise kernels (unary, binary, copy): the parameter block and the
// strided index of operand `which` (0 = out, 1 = first input, 2 = second input).
// The host coalesces dimensions first (adjacent dims contiguous for every operand merge), so
// contiguous tensors arrive as rank 1 and the loop below runs once.
const MAX_RANK: u32 = 8u;

struct Params {
  shape: array<vec4<u32>, 2>,    // output shape, dims 0..rank-1
  strides: array<vec4<u32>, 6>,  // strides of operand w at strides[2w .. 2w+1]
  bases: vec4<u32>,              // element offset of each operand within its binding
  rank: u32,
  count: u32,                    // output elements in this dispatch
  scalar: f32,
  row_width: u32,                // invocations per row of the 2-D folded dispatch
}

@group(0) @binding(0) var<uniform> p: Params;

fn strided_offset(i: u32, which: u32) -> u32 {
  var rem = i;
  var off = p.bases[which];
  for (var d = p.rank; d > 0u; d--) {
    let k = d - 1u;
    let n = p.shape[k / 4u][k % 4u];
    off += (rem % n) * p.strides[which * 2u + k / 4u][k % 4u];
    rem /= n;
  }
  return off;
}

// The flat index of this invocation in a dispatch folded to 2-D.
fn flat_index(gid: vec3<u32>) -> u32 {
  return gid.x + gid.y * p.row_width;
}
