// Shared by the row kernels (softmax, layer norm, cross-entropy): one workgroup per row, 256
// invocations striding over the row, and a tree sum in workgroup memory.
// NOTE: every reduction gets its own workgroup array. Mesa's llvmpipe (22.3) can move a read of
// workgroup memory past a later barrier, so reusing one array for a second reduction can hand
// an invocation the second reduction's partial sums.
const WG: u32 = 256u;

// Tree-sums `buffer` (filled with one partial per invocation) into buffer[0] and returns it.
// Every invocation of the workgroup must call this (it contains barriers).
fn tree_sum(buffer: ptr<workgroup, array<f32, WG>>, t: u32) -> f32 {
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (t < stride) { (*buffer)[t] += (*buffer)[t + stride]; }
    workgroupBarrier();
  }
  return (*buffer)[0];
}

fn tree_max(buffer: ptr<workgroup, array<f32, WG>>, t: u32) -> f32 {
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (t < stride) { (*buffer)[t] = max((*buffer)[t], (*buffer)[t + stride]); }
    workgroupBarrier();
  }
  return (*buffer)[0];
}
