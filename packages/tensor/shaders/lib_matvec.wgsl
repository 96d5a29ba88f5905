// The body of the matvec kernels (matvec.wgsl, matvec_fused.wgsl): everything but how B is
// stored, which the including file defines: binding 3 `b`, `fn b_elem(i) -> f32` (element i of
// the binding) and `fn b_word(w) -> vec2<f32>` (the elements of 32-bit word w; PACKED paths
// only); and `fn normed_product(i, a_base, b_base, c_base)`, the whole work of invocation i
// with NORM (matvec_fused.wgsl; an empty function elsewhere).
//! include "lib_math.wgsl"
//
// Up to 4 rows of A (ROWS, an override) against B, float32 accumulation. Each invocation owns
// whole outputs: one column of C (two when PACKED) for every row of A, in a vec4 of sums (one
// component a row), and walks all of K itself. No workgroup memory and no barriers: SwiftShader
// runs a shader with barriers as coroutines, one per 4 invocations, and switching them cost
// more than the arithmetic (a first version that split K over 32 invocations and reduced in
// workgroup memory ran the 768 x 50257 head at 0.03 GB/s). A GPU gets N / 64 (or N / 128)
// workgroups, enough for the head and the MLP at 3072 columns. Loops have at most K
// iterations; on llvmpipe the host keeps K per dispatch at 16,384 (its loop cap; matmul-tiles.ts).
//
// Plain B (stored (K, N): the model's linear weights): invocation i owns word i of each row of
// B, so consecutive invocations read consecutive words (coalesced on a GPU; one vector load on
// SwiftShader, which checks for sequential lanes); a 16-bit word is two columns.
// TRANS_B (B stored (N, K): the tied output head, q @ k^T): invocation i owns row i of B and
// reads it a word at a time (two elements when PACKED).
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

// TRANS_B: column n = dot products of row n of B with the rows of A.
fn dot_rows(n: u32, a_base: u32, b_base: u32, c_base: u32) {
  if (n >= p.N) { return; }
  let row = b_base + n * p.ldb;
  var acc = Sums();
  if (PACKED) {
    // Word j holds k = 2j and 2j + 1; an odd K's last word holds one element of this row.
    let first = row / 2u;
    let pairs = p.K / 2u;
    for (var j = 0u; j < pairs; j++) {
      let w = b_word(first + j);
      madd(&acc, a_base, 2u * j, w.x);
      madd(&acc, a_base, 2u * j + 1u, w.y);
    }
    if (p.K % 2u == 1u) { madd(&acc, a_base, p.K - 1u, b_word(first + pairs).x); }
  } else {
    var k = 0u;
    for (; k + 4u <= p.K; k += 4u) {
      let b0 = b_elem(row + k);
      let b1 = b_elem(row + k + 1u);
      let b2 = b_elem(row + k + 2u);
      let b3 = b_elem(row + k + 3u);
      madd(&acc, a_base, k, b0);
      madd(&acc, a_base, k + 1u, b1);
      madd(&acc, a_base, k + 2u, b2);
      madd(&acc, a_base, k + 3u, b3);
    }
    for (; k < p.K; k++) {
      madd(&acc, a_base, k, b_elem(row + k));
    }
  }
  store_col(n, acc, c_base);
}

// Plain B: word `word` of B's rows: column n = word, or columns 2 word and 2 word + 1 (PACKED).
fn dot_cols(word: u32, a_base: u32, b_base: u32, c_base: u32) {
  if (PACKED) {
    let n = 2u * word;
    if (n >= p.N) { return; }
    var acc0 = Sums();
    var acc1 = Sums();
    let ldw = p.ldb / 2u;
    var at = b_base / 2u + word;
    for (var k = 0u; k < p.K; k++) {
      let w = b_word(at);
      madd(&acc0, a_base, k, w.x);
      madd(&acc1, a_base, k, w.y);
      at += ldw;
    }
    store_col(n, acc0, c_base);
    // An odd N: the last word's second element is not a column of C.
    store_col(n + 1u, acc1, c_base);
  } else {
    if (word >= p.N) { return; }
    var acc = Sums();
    var at = b_base + word;
    var k = 0u;
    for (; k + 4u <= p.K; k += 4u) {
      let b0 = b_elem(at);
      let b1 = b_elem(at + p.ldb);
      let b2 = b_elem(at + 2u * p.ldb);
      let b3 = b_elem(at + 3u * p.ldb);
      madd(&acc, a_base, k, b0);
      madd(&acc, a_base, k + 1u, b1);
      madd(&acc, a_base, k + 2u, b2);
      madd(&acc, a_base, k + 3u, b3);
      at += 4u * p.ldb;
    }
    for (; k < p.K; k++) {
      madd(&acc, a_base, k, b_elem(at));
      at += p.ldb;
    }
    store_col(word, acc, c_base);
  }
}

@compute @workgroup_size(64)
fn main(
  @builtin(global_invocation_id) id: vec3<u32>,
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let a_base = p.a_base + wg.z * p.a_batch;
  let b_base = p.b_base + wg.z * p.b_batch;
  let c_base = p.c_base + wg.z * p.c_batch;
  if (NORM) {
    // matvec_fused.wgsl's layer-normed product has a work layout of its own.
    normed_product(id.x, a_base, b_base, c_base);
  } else if (TRANS_B) {
    dot_rows(id.x, a_base, b_base, c_base);
  } else {
    dot_cols(id.x, a_base, b_base, c_base);
  }
}
