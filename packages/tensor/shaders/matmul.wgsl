// Batched matmul: C[b] = op(A[b]) @ op(B[b]) (+ bias), op = optional transpose.
// M, N, K = rows of C, columns of C, inner dimension. A is (M, K) after its transpose, B (K, N).
// Bindings: 0 params, 1 c (read_write), 2 a, 3 b, 4 bias (N; a dummy when HAS_BIAS is false).
//
// One workgroup computes a 64x64 tile of C for one batch entry (workgroup_id.z). Its 16x16
// invocations each own a 4x4 block of that tile in four vec4 registers. The K dimension is
// walked in slabs of 16: A's 64x16 and B's 16x64 slab are staged in workgroup memory, so each
// element of A and B is read from global memory once per workgroup, and the inner product is
// an unrolled vec4 rank-1 update (16 FMAs per pair of shared loads). No inner loop over the
// 4x4 block: llvmpipe caps loop iterations per invocation at 65535, and unrolled FMAs are what
// GPUs want anyway. The host splits work so K per dispatch stays far below that cap.
// Global loads are arranged so consecutive invocations read consecutive addresses for either
// layout of A and B (see load_a_slab / load_b_slab).
// B may be a 16-bit weight (B_KIND, lib_half.wgsl): it is widened as it is staged, so the
// products and the accumulation stay float32. B is bound as raw words for every kind.
// This file binds B as raw 32-bit words (every kind, every adapter); matmul_f16.wgsl is the
// variant for adapters with shader-f16.
//! include "lib_half.wgsl"
override B_KIND: u32 = 0u;

@group(0) @binding(3) var<storage, read> b: array<u32>;

fn b_load(i: u32) -> f32 {
  if (B_KIND == 0u) { return bitcast<f32>(b[i]); }
  return widen_half(half_bits_of(b[i >> 1u], i), B_KIND);
}

//! include "lib_matmul.wgsl"
