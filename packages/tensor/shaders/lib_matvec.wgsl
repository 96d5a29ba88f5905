// The body of the matvec kernels (matvec.wgsl, matvec_fused.wgsl): everything but how B is
// stored, which the including file defines: binding 3 `b`, `fn b_elem(i) -> f32` (element i of
// the binding) and `fn b_word(w) -> vec2<f32>` (the elements of 32-bit word w; PACKED paths
// only); and `fn normed_product(i, a_base, b_base, c_base)`, the whole work of invocation i
// with NORM (matvec_fused.wgsl; an empty function elsewhere). The overrides, parameters, bindings
// and epilogue are lib_matvec_common.wgsl's (shared with matvec_splitk.wgsl's split-K layout).
//! include "lib_matvec_common.wgsl"
//
// Up to 4 rows of A (ROWS, an override) against B, float32 accumulation. Each invocation owns
// whole outputs: one column of C (two when PACKED) for every row of A, in a vec4 of sums (one
// component a row), and walks all of K itself. No workgroup memory and no barriers: SwiftShader
// runs a shader with barriers as coroutines, one per 4 invocations, and switching them cost
// more than the arithmetic (a first version that split K over 32 invocations and reduced in
// workgroup memory ran the 768 x 50257 head at 0.03 GB/s). This layout is for software
// adapters: a GPU would get N / 64 workgroups, too few loads in flight, and uncoalesced reads
// of a transposed B; hardware adapters run matvec_splitk.wgsl instead. Loops have at most K
// iterations; on llvmpipe the host keeps K per dispatch at 16,384 (its loop cap; matmul-tiles.ts).
//
// Plain B (stored (K, N): the model's linear weights): invocation i owns word i of each row of
// B, so consecutive invocations read consecutive words (coalesced on a GPU; one vector load on
// SwiftShader, which checks for sequential lanes); a 16-bit word is two columns.
// TRANS_B (B stored (N, K): the tied output head, q @ k^T): invocation i owns row i of B and
// reads it a word at a time (two elements when PACKED).

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
