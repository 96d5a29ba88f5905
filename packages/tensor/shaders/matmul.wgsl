// Batched matmul: C[b] = op(A[b]) @ op(B[b]) (+ bias), op = optional transpose.
// M, N, K = rows of C, columns of C, inner dimension. A is (M, K) after its transpose, B (K, N).
// Bindings: 0 params, 1 c (read_write), 2 a, 3 b, 4 bias (N; a dummy when HAS_BIAS is false),
// 5 a again as vec4<f32>, 6 b again as vec4 (the same buffers, or a dummy when the host reads
// that operand element by element), 7 col_sums (N; COL_SUMS, else a dummy).
//
// One workgroup computes a TM x TN tile of C for one batch entry (workgroup_id.z): WG_X x WG_Y
// invocations, each owning a block of 4 or 8 rows by 4 or 8 columns in up to 16 vec4
// registers (the tile is a set of override constants the host picks per adapter and shape:
// packages/tensor/src/webgpu/matmul-tiles.ts). K is walked in slabs of 16: A's TM x 16 and
// B's 16 x TN slab are staged in workgroup memory, so each element of A and B is read from
// global memory once per workgroup; the next slab is loaded into registers while the current
// one is multiplied (one copy of each slab in workgroup memory, two barriers a slab). The
// inner product is 16 unrolled rank-1 updates (an 8x8 block: 16 vec4 FMAs per 4 shared vec4
// loads). No inner loop at all: llvmpipe caps loop iterations per invocation at 65535 (the
// host keeps K per dispatch under a cap on llvmpipe only), and GPUs want the FMAs unrolled.
// Global loads: 4 consecutive stored elements per load, as one vec4 where the operand's
// alignment allows (VEC_A / VEC_B), and consecutive invocations read consecutive addresses
// for either layout of A and B (load_a / load_b). When M and N divide the tile and K divides
// 16 (FULL) the loads and stores carry no bounds checks.
// B may be a 16-bit weight (B_KIND, lib_half.wgsl): it is widened as it is staged, so the
// products and the accumulation stay float32. B is bound as raw words for every kind.
// This file binds B as raw 32-bit words (every kind, every adapter); matmul_f16.wgsl is the
// variant for adapters with shader-f16.
//! include "lib_half.wgsl"
override B_KIND: u32 = 0u;

@group(0) @binding(3) var<storage, read> b: array<u32>;
// B again as vec4 words (the same buffer), for float32 B's vector loads (VEC_B).
@group(0) @binding(6) var<storage, read> b4: array<vec4<u32>>;

fn b_load(i: u32) -> f32 {
  if (B_KIND == 0u) { return bitcast<f32>(b[i]); }
  return widen_half(half_bits_of(b[i >> 1u], i), B_KIND);
}

// Elements i .. i+3 (i a multiple of 4): the host sets VEC_B only for a float32 B.
fn b_load4(i: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(b4[i / 4u]);
}

//! include "lib_matmul.wgsl"
