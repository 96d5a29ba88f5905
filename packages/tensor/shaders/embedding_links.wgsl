// Embedding backward, step 1: for each position i, the first position with the same id
// (first[i]) and the next one after i (next[i], or -1). Step 2 (embedding_backward.wgsl)
// lets only the first position of each id walk this chain, so repeated ids are summed in a
// fixed order by one invocation: deterministic, and no float atomics.
// Bindings: 0 params, 1 first (N, i32), 2 next (N, i32), 3 ids (N, i32). One invocation per i;
// O(N^2) comparisons in all, small next to the O(N C) gradient itself at GPT-2's sizes.
override WG: u32 = 256u;

struct Params {
  N: u32,
  ids_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> first: array<i32>;
@group(0) @binding(2) var<storage, read_write> next: array<i32>;
@group(0) @binding(3) var<storage, read> ids: array<i32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.N) { return; }
  let id = ids[p.ids_base + i];
  var f = i32(i);
  for (var j = 0u; j < i; j++) {
    if (ids[p.ids_base + j] == id) { f = i32(j); break; }
  }
  var n = -1;
  for (var j = i + 1u; j < p.N; j++) {
    if (ids[p.ids_base + j] == id) { n = i32(j); break; }
  }
  first[i] = f;
  next[i] = n;
}
