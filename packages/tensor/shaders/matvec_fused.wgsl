// The matvec kernel (lib_matvec.wgsl) with decoding's fusions, one dispatch for each of a
// block's LN -> linear, linear -> GELU and linear + residual (decodeLinear, ops/decode.ts).
// NORM (normed_product): every invocation works out the mean and 1 / std of A's rows itself
// (two passes over K, as layernorm.wgsl: mean, then the centred variance; biased, eps inside
// the square root) and normalises A's elements as its K loop reads them; it owns NORM_COLS
// columns of C (i, i + S, i + 2 S, ... with S = ceil(N / NORM_COLS), so consecutive
// invocations still read consecutive words of a plain B), which spreads the 2 K reads of the
// statistics and the normalisation over NORM_COLS columns. No workgroup memory and no
// barriers: SwiftShader runs any shader that contains a barrier (even one an override turns
// off) as coroutines; a version that normed the rows once a workgroup into workgroup memory
// (lib_norm_rows.wgsl) ran the head at 669 ms against 350 ms for LN + matvec, and c_fc at
// 116 against 25 ms, and one column an invocation with its own statistics was no better
// (docs/webgpu-kernels.md, "Why `NORM` has its own layout").
// Bindings as matvec.wgsl, plus 5 the norm's weight, 6 its bias, 7 the residual.
//! include "lib_matvec_float.wgsl"
//! include "lib_matvec.wgsl"

// Columns of C an invocation owns with NORM (decode.ts sizes the dispatch from it). The code
// below is written out for 8 with constant indices: SwiftShader keeps a dynamically indexed
// function array in memory, which made a loop over columns several times slower.
const NORM_COLS: u32 = 8u;

// B's element (k, n) of a plain B, (n, k) of a TRANS_B one (element reads: any B_KIND).
fn b_at(b_base: u32, n: u32, k: u32) -> f32 {
  if (TRANS_B) { return b_elem(b_base + n * p.ldb + k); }
  return b_elem(b_base + k * p.ldb + n);
}

// (mean, 1 / std) of the K elements from `row`: two passes, as layernorm.wgsl.
fn row_stats(row: u32) -> vec2<f32> {
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) { s += a[row + k]; }
  let mean = s / f32(p.K);
  var q = 0.0;
  for (var k = 0u; k < p.K; k++) {
    let d = a[row + k] - mean;
    q += d * d;
  }
  return vec2<f32>(mean, inverseSqrt(q / f32(p.K) + p.eps));
}

// acc[m] += xs[m] * bv for the rows (constant indices, as lib_matvec.wgsl's madd).
fn nmadd(acc: ptr<function, Sums>, xs: Sums, bv: f32) {
  (*acc)[0] += xs[0] * bv;
  if (ROWS > 1u) { (*acc)[1] += xs[1] * bv; }
  if (ROWS > 2u) { (*acc)[2] += xs[2] * bv; }
  if (ROWS > 3u) { (*acc)[3] += xs[3] * bv; }
}

fn normed_product(i: u32, a_base: u32, b_base: u32, c_base: u32) {
  let S = (p.N + NORM_COLS - 1u) / NORM_COLS;
  if (i >= S) { return; }
  let st0 = row_stats(a_base);
  var st1 = vec2<f32>();
  var st2 = vec2<f32>();
  var st3 = vec2<f32>();
  if (ROWS > 1u) { st1 = row_stats(a_base + p.lda); }
  if (ROWS > 2u) { st2 = row_stats(a_base + 2u * p.lda); }
  if (ROWS > 3u) { st3 = row_stats(a_base + 3u * p.lda); }
  // Columns past N read column N - 1 (inside the binding) and are not stored.
  let last = p.N - 1u;
  let n0 = i;
  let n1 = min(i + S, last);
  let n2 = min(i + 2u * S, last);
  let n3 = min(i + 3u * S, last);
  let n4 = min(i + 4u * S, last);
  let n5 = min(i + 5u * S, last);
  let n6 = min(i + 6u * S, last);
  let n7 = min(i + 7u * S, last);
  var acc0 = Sums();
  var acc1 = Sums();
  var acc2 = Sums();
  var acc3 = Sums();
  var acc4 = Sums();
  var acc5 = Sums();
  var acc6 = Sums();
  var acc7 = Sums();
  for (var k = 0u; k < p.K; k++) {
    let g = norm_w[p.norm_w_base + k];
    let beta = norm_b[p.norm_b_base + k];
    var xs = Sums();
    let at = a_base + k;
    xs[0] = (a[at] - st0.x) * st0.y * g + beta;
    if (ROWS > 1u) { xs[1] = (a[at + p.lda] - st1.x) * st1.y * g + beta; }
    if (ROWS > 2u) { xs[2] = (a[at + 2u * p.lda] - st2.x) * st2.y * g + beta; }
    if (ROWS > 3u) { xs[3] = (a[at + 3u * p.lda] - st3.x) * st3.y * g + beta; }
    nmadd(&acc0, xs, b_at(b_base, n0, k));
    nmadd(&acc1, xs, b_at(b_base, n1, k));
    nmadd(&acc2, xs, b_at(b_base, n2, k));
    nmadd(&acc3, xs, b_at(b_base, n3, k));
    nmadd(&acc4, xs, b_at(b_base, n4, k));
    nmadd(&acc5, xs, b_at(b_base, n5, k));
    nmadd(&acc6, xs, b_at(b_base, n6, k));
    nmadd(&acc7, xs, b_at(b_base, n7, k));
  }
  store_col(n0, acc0, c_base);
  store_col(i + S, acc1, c_base);
  store_col(i + 2u * S, acc2, c_base);
  store_col(i + 3u * S, acc3, c_base);
  store_col(i + 4u * S, acc4, c_base);
  store_col(i + 5u * S, acc5, c_base);
  store_col(i + 6u * S, acc6, c_base);
  store_col(i + 7u * S, acc7, c_base);
}
