// The sum over a workgroup of one partial each, for kernels with one workgroup per output
// (matvec_quant.wgsl). The including file declares `WG` (its workgroup size, a power of two)
// and `var<workgroup> partial: array<f32, WG>`. lib_group_sum_subgroups.wgsl is the same
// function with subgroup operations (scripts/embed-shaders.mjs swaps it in where the device has
// `subgroups`).

// The sum of partial[0..WG) (each invocation has written its own); every invocation of the
// workgroup calls this in uniform control flow; the result is meant for invocation 0.
fn group_sum(t: u32) -> f32 {
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (t < stride) { partial[t] += partial[t + stride]; }
    workgroupBarrier();
  }
  return partial[0];
}
