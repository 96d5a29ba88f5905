// Converts between float32, float16 and bfloat16 (lib_half.wgsl), and copies 16-bit tensors:
// out (contiguous, starting at an even element) = x (any strides) in the out's kind.
// Bindings: 0 params (lib_elementwise; operand 1 is x), 1 out, 2 x, both as raw 32-bit words.
// One invocation per output word: one float32, or two 16-bit elements (so no two invocations
// write one word); an odd last element keeps the word's other half.
//! include "lib_elementwise.wgsl"
//! include "lib_half.wgsl"

override WG: u32 = 256u;
override IN_KIND: u32 = 0u;
override OUT_KIND: u32 = 0u;

@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<u32>;

fn x_bits(i: u32) -> u32 {
  return half_bits_of(x[i >> 1u], i);
}

fn x_value(i: u32) -> f32 {
  if (IN_KIND == 0u) { return bitcast<f32>(x[i]); }
  return widen_half(x_bits(i), IN_KIND);
}

// The 16-bit output pattern of element i.
fn element(i: u32) -> u32 {
  let at = strided_offset(i, 1u);
  if (IN_KIND == OUT_KIND) { return x_bits(at); }
  return narrow_half(x_value(at), OUT_KIND);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = flat_index(gid);
  if (OUT_KIND == 0u) {
    if (w >= p.count) { return; }
    out[p.bases[0] + w] = bitcast<u32>(x_value(strided_offset(w, 1u)));
    return;
  }
  let i = 2u * w;
  if (i >= p.count) { return; }
  let at = p.bases[0] / 2u + w;
  var word = element(i);
  if (i + 1u < p.count) { word |= element(i + 1u) << 16u; } else { word |= out[at] & 0xffff0000u; }
  out[at] = word;
}
