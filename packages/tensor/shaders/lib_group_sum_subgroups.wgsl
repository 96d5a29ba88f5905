// lib_group_sum.wgsl with subgroup operations (the same contract): one barrier instead of
// log2(WG) + 1, then every subgroup adds all WG partials, its lanes striding over them (stride
// the lanes active in the subgroup, start the lane's rank among them: no assumption on the
// subgroup size or on which invocations share a subgroup; lib_rows_subgroups.wgsl says more),
// and one subgroupAdd combines its lanes. Every invocation gets the sum.
fn group_sum(t: u32) -> f32 {
  workgroupBarrier();
  let lanes = subgroupAdd(1u);
  var s = 0.0;
  for (var i = subgroupExclusiveAdd(1u); i < WG; i += lanes) { s += partial[i]; }
  return subgroupAdd(s);
}
