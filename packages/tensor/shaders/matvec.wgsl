// Matvec for M <= 4 rows: C[b] = op(A[b]) @ op(B[b]) (+ bias) (+ C), the decoding shape, where
// matmul.wgsl's 64x64 tile would compute 60 or more rows for nothing. Same bindings, parameters
// and overrides as matmul.wgsl (lib_matvec.wgsl has the body and the work layout).
// B is float32, float16 or bfloat16 (lib_matvec_float.wgsl); matvec_fused.wgsl is the same
// kernel with decoding's fusions (layer norm before, GELU or a residual add after).
//! include "lib_matvec_float.wgsl"
//! include "lib_matvec.wgsl"

// No prologue: the plain kernel has no barriers (see lib_matvec.wgsl).
fn prologue(t: u32, a_base: u32) {}
fn normed(m: u32, k: u32) -> f32 { return 0.0; }
