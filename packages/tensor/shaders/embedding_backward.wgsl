// Embedding backward, step 2: dtable[ids[i], c] += sum of dout[j, c] over the positions j with
// the same id, done by the first such position only (see embedding_links.wgsl).
// The host splits a table gradient larger than one binding by rows: this dispatch holds rows
// [row0, row0 + rows). Bindings: 0 params, 1 dtable rows, 2 dout (N, C), 3 ids, 4 first, 5 next.
// One invocation per (i, c).
override WG: u32 = 256u;

struct Params {
  N: u32,
  C: u32,
  row0: u32,
  rows: u32,
  dtable_base: u32,
  dout_base: u32,
  ids_base: u32,
  row_width: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dtable: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> ids: array<i32>;
@group(0) @binding(4) var<storage, read> first: array<i32>;
@group(0) @binding(5) var<storage, read> next: array<i32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * p.row_width;
  if (e >= p.N * p.C) { return; }
  let i = e / p.C;
  let c = e % p.C;
  let id = ids[p.ids_base + i];
  let local = u32(id) - p.row0;
  if (first[i] != i32(i) || id < 0 || local >= p.rows) { return; }
  var total = 0.0;
  var j = i32(i);
  while (j >= 0) {
    total += dout[p.dout_base + u32(j) * p.C + c];
    j = next[u32(j)];
  }
  let at = p.dtable_base + local * p.C + c;
  dtable[at] = dtable[at] + total;
}
