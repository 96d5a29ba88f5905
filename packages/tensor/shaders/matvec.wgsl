// Matvec for M <= 4 rows: C[b] = op(A[b]) @ op(B[b]) (+ bias) (+ C), the decoding shape, where
// matmul.wgsl's 64x64 tile would compute 60 or more rows for nothing. Same bindings, parameters
// and overrides as matmul.wgsl (lib_matvec.wgsl has the body and the work layout).
// B is float32, float16 or bfloat16 (lib_matvec_float.wgsl); matvec_fused.wgsl is the same
// kernel with decoding's fusions (layer norm before, GELU or a residual add after).
//! include "lib_matvec_float.wgsl"
//! include "lib_matvec.wgsl"

// No fusions (NORM stays off here).
fn normed_product(i: u32, a_base: u32, b_base: u32, c_base: u32) {}
