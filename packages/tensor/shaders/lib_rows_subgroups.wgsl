// lib_rows.wgsl for devices with the `subgroups` feature (scripts/embed-shaders.mjs swaps it in
// and adds `enable subgroups;`): the same functions, the same contract (every invocation of the
// workgroup calls them in uniform control flow, with `buffer` holding one partial each, and
// gets the whole workgroup's sum or max), with one barrier instead of log2(WG) + 1 = 9.
// After the barrier every subgroup reads all WG partials itself, its lanes striding over them,
// and combines its lanes with one subgroupAdd/subgroupMax. That assumes nothing of the subgroup
// size (4 on SwiftShader, 32 or 64 on GPUs, up to 128) or of how invocations are grouped into
// subgroups: a lane's stride is the number of invocations active in its subgroup
// (subgroupAdd(1u)) and its start its rank among them (subgroupExclusiveAdd(1u)), so a subgroup
// that is not full, or not a run of consecutive local indices, still covers every partial.
// GPUs: WG / subgroup size workgroup-memory reads a lane (8 at 32) replace 8 barrier rounds.
// Every subgroup adds the same partials in the same order, so where the subgroups are the same
// size every invocation gets the same bits (as lib_rows.wgsl's buffer[0]).
// NOTE: every reduction still gets its own workgroup array (lib_rows.wgsl's llvmpipe note; the
// caller may not overwrite `buffer` until a later barrier).
const WG: u32 = 256u;

// The sum of `buffer`'s WG partials (`t`, the local index, is unused: lib_rows.wgsl's signature).
fn tree_sum(buffer: ptr<workgroup, array<f32, WG>>, t: u32) -> f32 {
  workgroupBarrier();
  let lanes = subgroupAdd(1u);
  var s = 0.0;
  for (var i = subgroupExclusiveAdd(1u); i < WG; i += lanes) { s += (*buffer)[i]; }
  return subgroupAdd(s);
}

// The max of `buffer`'s WG partials (as tree_sum).
fn tree_max(buffer: ptr<workgroup, array<f32, WG>>, t: u32) -> f32 {
  workgroupBarrier();
  let lanes = subgroupAdd(1u);
  var m = -3.4028234e38;
  for (var i = subgroupExclusiveAdd(1u); i < WG; i += lanes) { m = max(m, (*buffer)[i]); }
  return subgroupMax(m);
}
