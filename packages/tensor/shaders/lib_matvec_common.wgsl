// What the matvec kernels share (lib_matvec.wgsl's column layout, matvec_splitk.wgsl's split-K
// layout): the overrides, the parameters and bindings (as matmul.wgsl's, plus decoding's norm
// and residual), reading A, and the epilogue (bias, GELU, residual, accumulate) of one output.
// The including file defines binding 3 `b` (lib_matvec_float.wgsl).
//! include "lib_math.wgsl"

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// Add to C instead of overwriting it (the host splits a long K into several dispatches).
override ACCUMULATE: bool = false;
// Rows of A, 1..4 (p.M is the same number; a constant lets the loops over rows unroll).
override ROWS: u32 = 1u;
// 16-bit B whose rows (plain: rows of K; TRANS_B: rows of N) start on a word: read whole words.
override PACKED: bool = false;
// Decoding's fusions (decodeLinear, ops/decode.ts; all off for matmul):
// NORM (matvec_fused.wgsl): A's rows are layer-normed first (A plain, one block of K), so
// LN -> linear is one dispatch; normed_product does the work, in a layout of its own.
override NORM: bool = false;
// GELU: out = gelu(A B + bias), the MLP's first linear.
override GELU: bool = false;
// RESIDUAL: out = residual + (A B + bias): a block's residual connection (binding 7, (M, N)
// laid out as C).
override RESIDUAL: bool = false;


struct Params {
  M: u32,
  N: u32,
  K: u32,
  lda: u32,       // stored row stride of A (of A^T's storage when TRANS_A)
  ldb: u32,
  ldc: u32,
  a_base: u32,    // element offsets within the bindings
  b_base: u32,
  c_base: u32,
  bias_base: u32,
  a_batch: u32,   // element strides between batch entries (0 = broadcast)
  b_batch: u32,
  c_batch: u32,
  // NORM and RESIDUAL only (matmul's dispatches leave them unwritten)
  norm_w_base: u32,
  norm_b_base: u32,
  res_base: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> norm_w: array<f32>;
@group(0) @binding(6) var<storage, read> norm_b: array<f32>;
@group(0) @binding(7) var<storage, read> residual: array<f32>;

fn a_at(base: u32, m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[base + k * p.lda + m]; }
  return a[base + m * p.lda + k];
}

// Per-row sums: scalars, not a vec4, since SwiftShader runs each invocation's vector ops one
// component at a time (its SIMD lanes are invocations), and ROWS is usually 1.
alias Sums = array<f32, 4>;

// acc[m] += A(m, k) * bv for the rows of A (constant conditions: folded per pipeline).
fn madd(acc: ptr<function, Sums>, base: u32, k: u32, bv: f32) {
  (*acc)[0] += a_at(base, 0u, k) * bv;
  if (ROWS > 1u) { (*acc)[1] += a_at(base, 1u, k) * bv; }
  if (ROWS > 2u) { (*acc)[2] += a_at(base, 2u, k) * bv; }
  if (ROWS > 3u) { (*acc)[3] += a_at(base, 3u, k) * bv; }
}

fn store(m: u32, n: u32, value: f32, c_base: u32) {
  var v = value;
  if (HAS_BIAS) { v += bias[p.bias_base + n]; }
  if (GELU) { v = gelu(v); }
  if (RESIDUAL) { v += residual[p.res_base + m * p.ldc + n]; }
  let at = c_base + m * p.ldc + n;
  if (ACCUMULATE) { v += c[at]; }
  c[at] = v;
}

fn store_col(n: u32, acc: Sums, c_base: u32) {
  if (n >= p.N) { return; }
  store(0u, n, acc[0], c_base);
  if (ROWS > 1u) { store(1u, n, acc[1], c_base); }
  if (ROWS > 2u) { store(2u, n, acc[2], c_base); }
  if (ROWS > 3u) { store(3u, n, acc[3], c_base); }
}
