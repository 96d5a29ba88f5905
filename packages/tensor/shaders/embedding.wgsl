// Embedding gather: out[i, c] = table[ids[i], c] for the table rows [row0, row0 + rows) bound in
// this dispatch. The host splits a table larger than one storage binding by rows; the first
// dispatch writes every output element (zeros where the id is in no part of the table, or out
// of range), later ones only the rows they hold.
// Bindings: 0 params, 1 out (N, C), 2 table rows, 3 ids (N, i32). One invocation per out element.
// The table may be float16/bfloat16 (TABLE_KIND, lib_half.wgsl), bound as raw words; out is float32.
//! include "lib_half.wgsl"
override WG: u32 = 256u;
override TABLE_KIND: u32 = 0u;
override FIRST_PART: bool = true;

struct Params {
  N: u32,
  C: u32,
  row0: u32,
  rows: u32,
  table_base: u32,
  ids_base: u32,
  out_base: u32,
  row_width: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<u32>;
@group(0) @binding(3) var<storage, read> ids: array<i32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x + gid.y * p.row_width;
  if (e >= p.N * p.C) { return; }
  let i = e / p.C;
  let c = e % p.C;
  let id = ids[p.ids_base + i];
  let local = u32(id) - p.row0; // wraps to a huge value when id < row0
  if (id >= 0 && local < p.rows) {
    let at = p.table_base + local * p.C + c;
    if (TABLE_KIND == 0u) {
      out[p.out_base + e] = bitcast<f32>(table[at]);
    } else {
      out[p.out_base + e] = widen_half(half_bits_of(table[at >> 1u], at), TABLE_KIND);
    }
  } else if (FIRST_PART) {
    out[p.out_base + e] = 0.0;
  }
}
