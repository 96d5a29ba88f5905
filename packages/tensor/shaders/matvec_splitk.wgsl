// The matvec (M <= 4 rows) in a split-K layout, for GPUs: C = op(A) op(B) (+ bias) with every
// fusion of matvec_fused.wgsl (NORM: A's rows layer-normed first; GELU; RESIDUAL; ACCUMULATE),
// the same parameters, bindings and overrides (lib_matvec_common.wgsl). lib_matvec.wgsl's layout
// (each invocation walks all of K for its own columns) gives a 768-column product 768 / 8 to 768
// invocations: far too few loads in flight for a GPU's memory. Here a workgroup of WG
// invocations owns a few columns, its invocations stride over K, and their partial sums meet in
// lib_matvec_sum.wgsl (a workgroup-memory tree, or subgroupAdd where the device has subgroups):
// N / 4 workgroups for a transposed B, N / 4 (float32) or N / 8 (16-bit) for a plain one.
// Software adapters keep lib_matvec.wgsl's layout (matvec.ts: MatmulProfile.matvecSplitK):
// SwiftShader runs a shader with barriers as coroutines, and the barriers cost more than the
// arithmetic there (docs/webgpu-kernels.md, "The split-K matvec").
// TRANS_B (B stored (N, K): the tied head, q @ k^T): workgroup g owns columns 4 g .. 4 g + 3;
// invocation t reads words t, t + WG, ... of each of their rows (consecutive invocations,
// consecutive words: coalesced; a 16-bit word is two elements of K when PACKED).
// Plain B (stored (K, N): the model's linear weights): workgroup g owns TW consecutive words of
// B's rows (TW columns, 2 TW when PACKED); invocation t reads word t % TW of rows t / TW,
// t / TW + WG / TW, ... (TW consecutive words a row, 16 bytes: half a GPU's 32-byte sector;
// the neighbouring workgroup reads the other half at about the same time).
// NORM: the workgroup normalises A's rows into workgroup memory first (lib_norm_rows.wgsl; the
// host sets NORM_SIZE = ROWS * K), so every workgroup repeats 2 K reads a row of A (cached).
// Grid: workgroups folded into x and y (BackendWebGPU.grid), z the batch entry.
//! include "lib_matvec_float.wgsl"
//! include "lib_matvec_common.wgsl"

const WG: u32 = 64u;
// Words of B's rows a workgroup owns in the plain layout (the columns of its tile).
const TW: u32 = 4u;
// Columns a workgroup owns in the transposed layout.
const TCOLS: u32 = 4u;

var<workgroup> red: array<vec4<f32>, 256>;
//! include "lib_matvec_sum.wgsl"
//! include "lib_norm_rows.wgsl"

fn norm_src(i: u32) -> f32 { return a[i]; }
fn norm_gamma(k: u32) -> f32 { return norm_w[p.norm_w_base + k]; }
fn norm_beta(k: u32) -> f32 { return norm_b[p.norm_b_base + k]; }

// Column k of op(A)'s rows (normed with NORM), one component a row; rows past ROWS are 0.
fn a_col(a_base: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>();
  if (NORM) {
    v.x = xn[k];
    if (ROWS > 1u) { v.y = xn[p.K + k]; }
    if (ROWS > 2u) { v.z = xn[2u * p.K + k]; }
    if (ROWS > 3u) { v.w = xn[3u * p.K + k]; }
  } else {
    v.x = a_at(a_base, 0u, k);
    if (ROWS > 1u) { v.y = a_at(a_base, 1u, k); }
    if (ROWS > 2u) { v.z = a_at(a_base, 2u, k); }
    if (ROWS > 3u) { v.w = a_at(a_base, 3u, k); }
  }
  return v;
}

// Invocation t's part of row n of a transposed B against A (its words t, t + WG, ...).
fn row_part(t: u32, n: u32, a_base: u32, b_base: u32) -> vec4<f32> {
  let row = b_base + n * p.ldb;
  var acc = vec4<f32>();
  if (PACKED) {
    let first = row / 2u;
    let pairs = p.K / 2u;
    for (var j = t; j < pairs; j += WG) {
      let w = b_word(first + j);
      acc += a_col(a_base, 2u * j) * w.x + a_col(a_base, 2u * j + 1u) * w.y;
    }
    // An odd K's last word holds one element of this row.
    if (t == 0u && p.K % 2u == 1u) { acc += a_col(a_base, p.K - 1u) * b_word(first + pairs).x; }
  } else {
    for (var k = t; k < p.K; k += WG) { acc += a_col(a_base, k) * b_elem(row + k); }
  }
  return acc;
}

fn store_rows(n: u32, v: vec4<f32>, c_base: u32) {
  if (n >= p.N) { return; }
  store(0u, n, v.x, c_base);
  if (ROWS > 1u) { store(1u, n, v.y, c_base); }
  if (ROWS > 2u) { store(2u, n, v.z, c_base); }
  if (ROWS > 3u) { store(3u, n, v.w, c_base); }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let t = lid.x;
  let g = wg.x + wg.y * groups.x;
  let a_base = p.a_base + wg.z * p.a_batch;
  let b_base = p.b_base + wg.z * p.b_batch;
  let c_base = p.c_base + wg.z * p.c_batch;
  var parts = array<vec4<f32>, 4>();
  if (TRANS_B) {
    if (g * TCOLS >= p.N) { return; }
    if (NORM) { normalize_rows(t, a_base, p.lda, p.K, p.eps); }
    // Columns past N read column N - 1 (inside the binding) and are not stored.
    let n0 = g * TCOLS;
    let last = p.N - 1u;
    parts[0] = row_part(t, n0, a_base, b_base);
    parts[1] = row_part(t, min(n0 + 1u, last), a_base, b_base);
    parts[2] = row_part(t, min(n0 + 2u, last), a_base, b_base);
    parts[3] = row_part(t, min(n0 + 3u, last), a_base, b_base);
    let sums = column_sums(t, parts, 4u, 1u);
    if (t == 0u) {
      store_rows(n0, sums[0], c_base);
      store_rows(n0 + 1u, sums[1], c_base);
      store_rows(n0 + 2u, sums[2], c_base);
      store_rows(n0 + 3u, sums[3], c_base);
    }
  } else {
    let cols = select(1u, 2u, PACKED);
    if (g * TW * cols >= p.N) { return; }
    if (NORM) { normalize_rows(t, a_base, p.lda, p.K, p.eps); }
    let word = g * TW + t % TW;
    let n = word * cols;
    if (n < p.N) {
      if (PACKED) {
        let ldw = p.ldb / 2u;
        for (var k = t / TW; k < p.K; k += WG / TW) {
          let w = b_word(b_base / 2u + k * ldw + word);
          let x = a_col(a_base, k);
          parts[0] += x * w.x;
          parts[1] += x * w.y;
        }
      } else {
        for (var k = t / TW; k < p.K; k += WG / TW) { parts[0] += a_col(a_base, k) * b_elem(b_base + k * p.ldb + n); }
      }
    }
    let sums = column_sums(t, parts, cols, TW);
    if (t < TW) {
      store_rows(n, sums[0], c_base);
      // An odd N: the last word's second element is not a column of C.
      if (PACKED) { store_rows(n + 1u, sums[1], c_base); }
    }
  }
}
