// 16-bit floats in WGSL storage: an array<u32> holds two elements per word, element i in the
// low half of word i / 2 when i is even, the high half when odd. Kinds: 0 = float32 (one
// element per word), 1 = float16 (unpack2x16float/pack2x16float: core WGSL, every adapter),
// 2 = bfloat16 (float32's top 16 bits: a shift). Reads widen exactly (up to an adapter that
// flushes float16 subnormals); the float32 -> bfloat16 narrowing rounds to nearest even.

fn half_bits_of(word: u32, i: u32) -> u32 {
  return select(word & 0xffffu, word >> 16u, (i & 1u) == 1u);
}

fn widen_half(h: u32, kind: u32) -> f32 {
  if (kind == 2u) { return bitcast<f32>(h << 16u); }
  return unpack2x16float(h).x;
}

fn narrow_half(v: f32, kind: u32) -> u32 {
  if (kind == 2u) {
    let b = bitcast<u32>(v);
    if ((b & 0x7fffffffu) > 0x7f800000u) { return (b >> 16u) | 0x40u; }
    return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
  }
  return pack2x16float(vec2<f32>(v, 0.0)) & 0xffffu;
}
