// lib_matvec_sum.wgsl with subgroup operations (the same contract). One barrier, then:
// cols == 1 (the transposed layout: a column's whole workgroup): every subgroup adds all WG
// partials, its lanes striding over them (stride the lanes active in the subgroup, start the
// lane's rank among them: no assumption on the subgroup size or on which invocations share a
// subgroup; lib_rows_subgroups.wgsl says more), and one subgroupAdd per partial combines its
// lanes; every invocation gets the sums. cols > 1 (the plain layout's tile of columns):
// invocation t adds its column's WG / cols partials itself (which invocations share a subgroup
// is not known, so a subgroupAdd could not pick one column's partials).
fn column_sums(t: u32, s: array<vec4<f32>, 4>, used: u32, cols: u32) -> array<vec4<f32>, 4> {
  for (var c = 0u; c < used; c++) { red[c * WG + t] = s[c]; }
  workgroupBarrier();
  var out = array<vec4<f32>, 4>();
  if (cols == 1u) {
    let lanes = subgroupAdd(1u);
    for (var i = subgroupExclusiveAdd(1u); i < WG; i += lanes) {
      for (var c = 0u; c < used; c++) { out[c] += red[c * WG + i]; }
    }
    for (var c = 0u; c < 4u; c++) { out[c] = subgroupAdd(out[c]); }
  } else {
    for (var i = t % cols; i < WG; i += cols) {
      for (var c = 0u; c < used; c++) { out[c] += red[c * WG + i]; }
    }
  }
  return out;
}
