// The split-K matvec's sums across invocations (matvec_splitk.wgsl): every invocation holds up
// to 4 vec4 partials (a vec4 = the rows of A; 4 = the columns it works on) and the sum over the
// invocations that share `t % cols` is wanted. The including file declares `WG` (its workgroup
// size, a power of two) and `var<workgroup> red: array<vec4<f32>, 4 * WG>`.
// lib_matvec_sum_subgroups.wgsl is the same function with subgroup operations
// (scripts/embed-shaders.mjs swaps it in where the device has `subgroups`).

// Sums s[c] (c < used, a constant at each call) over the invocations with the same t % cols
// (cols a power of two, at most WG). Every invocation of the workgroup calls this in uniform
// control flow; the result is meant for the invocations t < cols (the others get partial sums).
// Plain version: a tree in workgroup memory, log2(WG / cols) + 1 barriers.
fn column_sums(t: u32, s: array<vec4<f32>, 4>, used: u32, cols: u32) -> array<vec4<f32>, 4> {
  for (var c = 0u; c < used; c++) { red[c * WG + t] = s[c]; }
  workgroupBarrier();
  for (var stride = WG / 2u; stride >= cols; stride = stride / 2u) {
    if (t < stride) {
      for (var c = 0u; c < used; c++) { red[c * WG + t] += red[c * WG + t + stride]; }
    }
    workgroupBarrier();
  }
  var out = array<vec4<f32>, 4>();
  for (var c = 0u; c < used; c++) { out[c] = red[c * WG + t % cols]; }
  return out;
}
