// B of the matvec kernels (matvec.wgsl, matvec_fused.wgsl) and of attention_decode_qkv.wgsl's
// projection, stored as raw 32-bit words: float32 (B_KIND 0, one element a word) or
// float16/bfloat16 (B_KIND 1/2, two a word, lib_half.wgsl). A weight format with its own
// storage (int8, int4 with scales) is another file defining the same two functions.
//! include "lib_half.wgsl"
override B_KIND: u32 = 0u;

@group(0) @binding(3) var<storage, read> b: array<u32>;

// Element i of B's binding as float32 (any i: the unpacked paths).
fn b_elem(i: u32) -> f32 {
  if (B_KIND == 0u) { return bitcast<f32>(b[i]); }
  return widen_half(half_bits_of(b[i >> 1u], i), B_KIND);
}

// Word w of B's binding as its elements: two for 16-bit kinds; float32: the element and 0.
fn b_word(w: u32) -> vec2<f32> {
  let bits = b[w];
  if (B_KIND == 0u) { return vec2<f32>(bitcast<f32>(bits), 0.0); }
  if (B_KIND == 2u) { return vec2<f32>(bitcast<f32>(bits << 16u), bitcast<f32>(bits & 0xffff0000u)); }
  return unpack2x16float(bits);
}

