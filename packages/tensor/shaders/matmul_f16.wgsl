enable f16;
// matmul.wgsl for a float16 B on an adapter with the `shader-f16` feature (the host requests it
// when the adapter has it; matmul.wgsl's unpack2x16float path serves every other adapter): B is
// bound as array<f16> and read natively, one element per load, with no word unpacking. The
// products and the accumulation stay float32 (f16 products would lose the precision the
// float32 reference keeps), as in matmul.wgsl.
// Bindings, tiling and parameters: matmul.wgsl.

@group(0) @binding(3) var<storage, read> b: array<f16>;

// B again as vec4<f16> (the same buffer), for vector loads (VEC_B).
@group(0) @binding(6) var<storage, read> b4: array<vec4<f16>>;

fn b_load(i: u32) -> f32 {
  return f32(b[i]);
}

fn b_load4(i: u32) -> vec4<f32> {
  return vec4<f32>(b4[i / 4u]);
}

//! include "lib_matmul.wgsl"
