// The matvec kernel (lib_matvec.wgsl) with decoding's fusions, one dispatch for each of a
// block's LN -> linear, linear -> GELU and linear + residual (decodeLinear, ops/decode.ts):
// NORM runs lib_norm_rows.wgsl's layer norm of A's rows into workgroup memory first (so every
// workgroup of the dispatch repeats it: 2 K reads a row, small beside its 64 columns of K
// multiply-adds), then the K loop reads the normed rows. A kernel of its own (not matvec.wgsl
// with NORM off) because SwiftShader runs any shader that contains a barrier as coroutines.
// Bindings as matvec.wgsl, plus 5 the norm's weight, 6 its bias, 7 the residual.
//! include "lib_matvec_float.wgsl"
//! include "lib_matvec.wgsl"
//! include "lib_norm_rows.wgsl"

fn norm_src(i: u32) -> f32 { return a[i]; }
fn norm_gamma(k: u32) -> f32 { return norm_w[p.norm_w_base + k]; }
fn norm_beta(k: u32) -> f32 { return norm_b[p.norm_b_base + k]; }

fn prologue(t: u32, a_base: u32) {
  if (NORM) { normalize_rows(t, a_base, p.lda, p.K, p.eps); }
}

fn normed(m: u32, k: u32) -> f32 { return xn[m * p.K + k]; }
