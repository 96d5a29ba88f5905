// Fills a contiguous range with one 32-bit word (a float32 or int32 bit pattern).
// Bindings: 0 params, 1 out. One invocation per element.
override WG: u32 = 256u;

struct Params {
  base: u32,
  count: u32,
  word: u32,
  row_width: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.row_width;
  if (i >= p.count) { return; }
  out[p.base + i] = p.word;
}
