// Layer norm as a kernel's prologue (attention_decode_qkv.wgsl, which has barriers anyway;
// matvec_fused.wgsl's NORM has a barrier-free layout of its own): the workgroup normalises up to 4 rows of K channels into
// workgroup memory, `xn[m * K + k]`, once, and the kernel's loops read them from there. Every
// workgroup of a dispatch repeats this: 2 K reads and ~6 K operations a row, small beside the
// K x (columns a workgroup owns) multiply-adds that follow (64 or more columns).
// Two passes (mean, then the centred variance) as layernorm.wgsl; biased variance, eps inside
// the square root (PyTorch's). Each invocation adds up a strided part, the 64 partials go to
// workgroup memory, and every invocation adds the 64 itself (3 barriers in all).
// The including file defines: override ROWS (1..4), `fn norm_src(i) -> f32` (element i of the raw activations' binding) and
// `fn norm_gamma(k) -> f32`, `fn norm_beta(k) -> f32` (the layer norm's weight and bias).
// NOTE: one workgroup array per reduction (llvmpipe may move a read past a later barrier; see
// lib_rows.wgsl).
const NORM_WG: u32 = 64u;
// Elements of the normed rows: ROWS * K (the host sets it; it must fit the workgroup memory).
override NORM_SIZE: u32 = 1u;

var<workgroup> xn: array<f32, NORM_SIZE>;
var<workgroup> norm_sum: array<f32, 256>;
var<workgroup> norm_sq: array<f32, 256>;

// Row m of the raw activations starts at src_base + m * ld; K channels. Every invocation of the
// workgroup calls this, in uniform control flow (it has barriers), with t its local index.
fn normalize_rows(t: u32, src_base: u32, ld: u32, K: u32, eps: f32) {
  for (var m = 0u; m < ROWS; m++) {
    var s = 0.0;
    for (var k = t; k < K; k += NORM_WG) { s += norm_src(src_base + m * ld + k); }
    norm_sum[m * NORM_WG + t] = s;
  }
  workgroupBarrier();
  var mean = array<f32, 4>();
  for (var m = 0u; m < ROWS; m++) {
    var s = 0.0;
    for (var i = 0u; i < NORM_WG; i++) { s += norm_sum[m * NORM_WG + i]; }
    mean[m] = s / f32(K);
    var q = 0.0;
    for (var k = t; k < K; k += NORM_WG) {
      let d = norm_src(src_base + m * ld + k) - mean[m];
      q += d * d;
    }
    norm_sq[m * NORM_WG + t] = q;
  }
  workgroupBarrier();
  for (var m = 0u; m < ROWS; m++) {
    var q = 0.0;
    for (var i = 0u; i < NORM_WG; i++) { q += norm_sq[m * NORM_WG + i]; }
    let r = inverseSqrt(q / f32(K) + eps);
    for (var k = t; k < K; k += NORM_WG) {
      xn[m * K + k] = (norm_src(src_base + m * ld + k) - mean[m]) * r * norm_gamma(k) + norm_beta(k);
    }
  }
  workgroupBarrier();
}
