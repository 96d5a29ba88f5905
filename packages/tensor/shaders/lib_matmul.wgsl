// The body of the matmul kernels (matmul.wgsl, matmul_f16.wgsl): everything but how B is bound
// and read, which the including file defines first: binding 3 `b`, binding 6 `b4` (the same
// buffer again, for vector loads), `fn b_load(i: u32) -> f32` (element i of B as float32) and
// `fn b_load4(i: u32) -> vec4<f32>` (elements i .. i+3, i a multiple of 4; only called when
// VEC_B). See matmul.wgsl for the tiling and docs/webgpu-kernels.md for the design.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// Add to C instead of overwriting it (the host splits a long K into several dispatches).
override ACCUMULATE: bool = false;
// Also write the column sums of op(B) over K (sum_k B(k, n)) into col_sums (binding 7): a linear
// layer's bias gradient beside its weight gradient dW = x^T g, whose B is g. Workgroups of the
// first tile row (wg.y == 0) sum the B slabs they stage anyway: invocation (tx, ty) adds slab
// rows ty, ty + WG_Y, .. of its columns each slab, and after the K loop the WG_Y partial sums
// are added through workgroup memory. No extra pass over g, no reduction dispatch; with
// ACCUMULATE they add to col_sums as C's blocks add to C.
override COL_SUMS: bool = false;

// The tile (the host picks it per adapter and shape, packages/tensor/src/webgpu/matmul-tiles.ts):
// WG_X x WG_Y invocations, each owning a (4 or 8) x (4 or 8) block of C, so a workgroup
// computes TM = WG_Y * 4 * (1 or 2) rows by TN = WG_X * 4 * (1 or 2) columns.
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override WIDE_M: bool = true; // 8 rows per invocation (else 4)
override WIDE_N: bool = true; // 8 columns per invocation (else 4)
// M and N are multiples of the tile and K of DEPTH (the host checks): no bounds checks at all.
override FULL: bool = false;
// A and B read as vec4 from global memory: the host sets these when the operand's binding
// base, row stride, batch stride and contiguous extent are multiples of 4 (so a vector never
// straddles a bound) and its binding holds whole vec4s.
override VEC_A: bool = false;
override VEC_B: bool = false;

const DEPTH: u32 = 16u;
// vec4 columns of the A and B slabs, invocations, and vec4 loads per invocation per slab.
override TM4: u32 = WG_Y * select(1u, 2u, WIDE_M);
override TN4: u32 = WG_X * select(1u, 2u, WIDE_N);
override THREADS: u32 = WG_X * WG_Y;
override LOADS_A: u32 = TM4 * DEPTH / THREADS;
override LOADS_B: u32 = TN4 * DEPTH / THREADS;
override A_SLAB: u32 = TM4 * DEPTH;
override B_SLAB: u32 = TN4 * DEPTH;

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
  cs_base: u32,   // col_sums' offset within its binding
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> a4: array<vec4<f32>>;
// (N), the column sums of op(B) with COL_SUMS (a dummy otherwise).
@group(0) @binding(7) var<storage, read_write> col_sums: array<f32>;

// a_slab[k * TM4 + m / 4] holds A(m .. m+3, k); b_slab[k * TN4 + n / 4] holds B(k, n .. n+3).
var<workgroup> a_slab: array<vec4<f32>, A_SLAB>;
var<workgroup> b_slab: array<vec4<f32>, B_SLAB>;

// The invocation's block of C: acc[r][h] = rows 4 * (ty + (r / 4) * WG_Y) + r % 4, columns
// 4 * (tx + h * WG_X) .. + 3. Strided (not adjacent) rows and columns, so that neighbouring
// invocations read neighbouring vec4s of the slabs. Private variables, named one by one: a
// register each after inlining, never an indexed array.
var<private> acc00: vec4<f32>;
var<private> acc01: vec4<f32>;
var<private> acc02: vec4<f32>;
var<private> acc03: vec4<f32>;
var<private> acc04: vec4<f32>;
var<private> acc05: vec4<f32>;
var<private> acc06: vec4<f32>;
var<private> acc07: vec4<f32>;
var<private> acc10: vec4<f32>;
var<private> acc11: vec4<f32>;
var<private> acc12: vec4<f32>;
var<private> acc13: vec4<f32>;
var<private> acc14: vec4<f32>;
var<private> acc15: vec4<f32>;
var<private> acc16: vec4<f32>;
var<private> acc17: vec4<f32>;

// 4 consecutive stored elements of A from element index i: (outer, inner) is the position in
// A's storage (row, column of A, or of A^T when TRANS_A), out of (outer_n, inner_n).
fn fetch_a(i: u32, outer: u32, outer_n: u32, inner: u32, inner_n: u32) -> vec4<f32> {
  if (FULL) {
    if (VEC_A) { return a4[i / 4u]; }
    return vec4<f32>(a[i], a[i + 1u], a[i + 2u], a[i + 3u]);
  }
  var v = vec4<f32>(0.0);
  if (outer >= outer_n) { return v; }
  if (VEC_A) {
    if (inner < inner_n) { v = a4[i / 4u]; }
    return v;
  }
  if (inner < inner_n) { v.x = a[i]; }
  if (inner + 1u < inner_n) { v.y = a[i + 1u]; }
  if (inner + 2u < inner_n) { v.z = a[i + 2u]; }
  if (inner + 3u < inner_n) { v.w = a[i + 3u]; }
  return v;
}

fn fetch_b(i: u32, outer: u32, outer_n: u32, inner: u32, inner_n: u32) -> vec4<f32> {
  if (FULL) {
    if (VEC_B) { return b_load4(i); }
    return vec4<f32>(b_load(i), b_load(i + 1u), b_load(i + 2u), b_load(i + 3u));
  }
  var v = vec4<f32>(0.0);
  if (outer >= outer_n) { return v; }
  if (VEC_B) {
    if (inner < inner_n) { v = b_load4(i); }
    return v;
  }
  if (inner < inner_n) { v.x = b_load(i); }
  if (inner + 1u < inner_n) { v.y = b_load(i + 1u); }
  if (inner + 2u < inner_n) { v.z = b_load(i + 2u); }
  if (inner + 3u < inner_n) { v.w = b_load(i + 3u); }
  return v;
}

// Load j (0 .. TM4 * DEPTH) of the A slab at k0: 4 elements along A's stored rows, so that
// consecutive invocations read consecutive addresses in either layout.
fn load_a(j: u32, base: u32, row0: u32, k0: u32) -> vec4<f32> {
  if (TRANS_A) {
    let k = k0 + j / TM4;
    let m = row0 + (j % TM4) * 4u;
    return fetch_a(base + k * p.lda + m, k, p.K, m, p.M);
  }
  let m = row0 + j / 4u;
  let k = k0 + (j % 4u) * 4u;
  return fetch_a(base + m * p.lda + k, m, p.M, k, p.K);
}

fn stash_a(j: u32, v: vec4<f32>) {
  if (TRANS_A) {
    a_slab[j] = v; // (j / TM4) * TM4 + j % TM4
    return;
  }
  let m = j / 4u;
  let k = (j % 4u) * 4u;
  a_slab[k * TM4 + m / 4u][m % 4u] = v.x;
  a_slab[(k + 1u) * TM4 + m / 4u][m % 4u] = v.y;
  a_slab[(k + 2u) * TM4 + m / 4u][m % 4u] = v.z;
  a_slab[(k + 3u) * TM4 + m / 4u][m % 4u] = v.w;
}

fn load_b(j: u32, base: u32, col0: u32, k0: u32) -> vec4<f32> {
  if (TRANS_B) {
    let n = col0 + j / 4u;
    let k = k0 + (j % 4u) * 4u;
    return fetch_b(base + n * p.ldb + k, n, p.N, k, p.K);
  }
  let k = k0 + j / TN4;
  let n = col0 + (j % TN4) * 4u;
  return fetch_b(base + k * p.ldb + n, k, p.K, n, p.N);
}

fn stash_b(j: u32, v: vec4<f32>) {
  if (!TRANS_B) {
    b_slab[j] = v;
    return;
  }
  let n = j / 4u;
  let k = (j % 4u) * 4u;
  b_slab[k * TN4 + n / 4u][n % 4u] = v.x;
  b_slab[(k + 1u) * TN4 + n / 4u][n % 4u] = v.y;
  b_slab[(k + 2u) * TN4 + n / 4u][n % 4u] = v.z;
  b_slab[(k + 3u) * TN4 + n / 4u][n % 4u] = v.w;
}

// One step of the inner product: rank-1 update of the invocation's block from row k of the slabs.
fn mac(k: u32, tx: u32, ty: u32) {
  let a0 = a_slab[k * TM4 + ty];
  let b0 = b_slab[k * TN4 + tx];
  acc00 += a0.x * b0;
  acc01 += a0.y * b0;
  acc02 += a0.z * b0;
  acc03 += a0.w * b0;
  if (WIDE_N) {
    let b1 = b_slab[k * TN4 + tx + WG_X];
    acc10 += a0.x * b1;
    acc11 += a0.y * b1;
    acc12 += a0.z * b1;
    acc13 += a0.w * b1;
    if (WIDE_M) {
      let a1 = a_slab[k * TM4 + ty + WG_Y];
      acc04 += a1.x * b0;
      acc05 += a1.y * b0;
      acc06 += a1.z * b0;
      acc07 += a1.w * b0;
      acc14 += a1.x * b1;
      acc15 += a1.y * b1;
      acc16 += a1.z * b1;
      acc17 += a1.w * b1;
    }
  } else if (WIDE_M) {
    let a1 = a_slab[k * TM4 + ty + WG_Y];
    acc04 += a1.x * b0;
    acc05 += a1.y * b0;
    acc06 += a1.z * b0;
    acc07 += a1.w * b0;
  }
}

fn store_row(row: u32, col: u32, values: vec4<f32>, c_base: u32) {
  if (!FULL && row >= p.M) { return; }
  let at = c_base + row * p.ldc + col;
  var v = values;
  if (HAS_BIAS) {
    if (FULL || col + 3u < p.N) {
      v += vec4<f32>(bias[p.bias_base + col], bias[p.bias_base + col + 1u], bias[p.bias_base + col + 2u],
                     bias[p.bias_base + col + 3u]);
    } else {
      for (var j = 0u; j < 4u; j++) {
        if (col + j < p.N) { v[j] += bias[p.bias_base + col + j]; }
      }
    }
  }
  if (FULL || col + 3u < p.N) {
    if (ACCUMULATE) { v += vec4<f32>(c[at], c[at + 1u], c[at + 2u], c[at + 3u]); }
    c[at] = v.x;
    c[at + 1u] = v.y;
    c[at + 2u] = v.z;
    c[at + 3u] = v.w;
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < p.N) {
      var x = v[j];
      if (ACCUMULATE) { x += c[at + j]; }
      c[at + j] = x;
    }
  }
}

fn store_block(row: u32, col: u32, c_base: u32, r0: vec4<f32>, r1: vec4<f32>, r2: vec4<f32>, r3: vec4<f32>) {
  store_row(row, col, r0, c_base);
  store_row(row + 1u, col, r1, c_base);
  store_row(row + 2u, col, r2, c_base);
  store_row(row + 3u, col, r3, c_base);
}

// The column sums' last step (COL_SUMS, workgroups with wg.y == 0, after the K loop's last
// barrier, so the B slab is free): each invocation's partial sums go to row ty of the slab,
// and row 0 adds the WG_Y rows (WG_Y <= DEPTH) and stores them.
fn store_col_sums(col0: u32, tx: u32, ty: u32, cs0: vec4<f32>, cs1: vec4<f32>) {
  b_slab[ty * TN4 + tx] = cs0;
  if (WIDE_N) { b_slab[ty * TN4 + tx + WG_X] = cs1; }
  workgroupBarrier();
  if (ty != 0u) { return; }
  for (var h = 0u; h < select(1u, 2u, WIDE_N); h++) {
    var v = vec4<f32>(0.0);
    for (var r = 0u; r < WG_Y; r++) { v += b_slab[r * TN4 + tx + h * WG_X]; }
    let col = col0 + 4u * (tx + h * WG_X);
    for (var j = 0u; j < 4u; j++) {
      if (FULL || col + j < p.N) {
        var x = v[j];
        if (ACCUMULATE) { x += col_sums[p.cs_base + col + j]; }
        col_sums[p.cs_base + col + j] = x;
      }
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * TM4 * 4u;
  let col0 = wg.x * TN4 * 4u;
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * WG_X + tx;
  let a_base = p.a_base + wg.z * p.a_batch;
  let b_base = p.b_base + wg.z * p.b_batch;
  // The next slab, prefetched into registers while the current one is multiplied: LOADS_A and
  // LOADS_B are 1, 2 or 4 (matmul-tiles.ts keeps them so); constant conditions, folded per pipeline.
  var ra0 = load_a(t, a_base, row0, 0u);
  var ra1 = vec4<f32>(0.0);
  var ra2 = vec4<f32>(0.0);
  var ra3 = vec4<f32>(0.0);
  if (LOADS_A > 1u) { ra1 = load_a(t + THREADS, a_base, row0, 0u); }
  if (LOADS_A > 2u) {
    ra2 = load_a(t + 2u * THREADS, a_base, row0, 0u);
    ra3 = load_a(t + 3u * THREADS, a_base, row0, 0u);
  }
  // COL_SUMS: this workgroup's share of the column sums (workgroup-uniform: wg.y).
  let sums = COL_SUMS && wg.y == 0u;
  var cs0 = vec4<f32>(0.0);
  var cs1 = vec4<f32>(0.0);
  var rb0 = load_b(t, b_base, col0, 0u);
  var rb1 = vec4<f32>(0.0);
  var rb2 = vec4<f32>(0.0);
  var rb3 = vec4<f32>(0.0);
  if (LOADS_B > 1u) { rb1 = load_b(t + THREADS, b_base, col0, 0u); }
  if (LOADS_B > 2u) {
    rb2 = load_b(t + 2u * THREADS, b_base, col0, 0u);
    rb3 = load_b(t + 3u * THREADS, b_base, col0, 0u);
  }
  for (var k0 = 0u; k0 < p.K; k0 += DEPTH) {
    stash_a(t, ra0);
    if (LOADS_A > 1u) { stash_a(t + THREADS, ra1); }
    if (LOADS_A > 2u) {
      stash_a(t + 2u * THREADS, ra2);
      stash_a(t + 3u * THREADS, ra3);
    }
    stash_b(t, rb0);
    if (LOADS_B > 1u) { stash_b(t + THREADS, rb1); }
    if (LOADS_B > 2u) {
      stash_b(t + 2u * THREADS, rb2);
      stash_b(t + 3u * THREADS, rb3);
    }
    workgroupBarrier();
    let k1 = k0 + DEPTH;
    if (k1 < p.K) {
      ra0 = load_a(t, a_base, row0, k1);
      if (LOADS_A > 1u) { ra1 = load_a(t + THREADS, a_base, row0, k1); }
      if (LOADS_A > 2u) {
        ra2 = load_a(t + 2u * THREADS, a_base, row0, k1);
        ra3 = load_a(t + 3u * THREADS, a_base, row0, k1);
      }
      rb0 = load_b(t, b_base, col0, k1);
      if (LOADS_B > 1u) { rb1 = load_b(t + THREADS, b_base, col0, k1); }
      if (LOADS_B > 2u) {
        rb2 = load_b(t + 2u * THREADS, b_base, col0, k1);
        rb3 = load_b(t + 3u * THREADS, b_base, col0, k1);
      }
    }
    // DEPTH = 16 steps written out: no inner loop (llvmpipe counts loop iterations per
    // invocation, and GPUs want the FMAs unrolled anyway).
    mac(0u, tx, ty);
    mac(1u, tx, ty);
    mac(2u, tx, ty);
    mac(3u, tx, ty);
    mac(4u, tx, ty);
    mac(5u, tx, ty);
    mac(6u, tx, ty);
    mac(7u, tx, ty);
    mac(8u, tx, ty);
    mac(9u, tx, ty);
    mac(10u, tx, ty);
    mac(11u, tx, ty);
    mac(12u, tx, ty);
    mac(13u, tx, ty);
    mac(14u, tx, ty);
    mac(15u, tx, ty);
    if (sums) {
      for (var kk = ty; kk < DEPTH; kk += WG_Y) {
        cs0 += b_slab[kk * TN4 + tx];
        if (WIDE_N) { cs1 += b_slab[kk * TN4 + tx + WG_X]; }
      }
    }
    workgroupBarrier();
  }
  if (sums) { store_col_sums(col0, tx, ty, cs0, cs1); }
  let c_base = p.c_base + wg.z * p.c_batch;
  let row = row0 + ty * 4u;
  let col = col0 + tx * 4u;
  store_block(row, col, c_base, acc00, acc01, acc02, acc03);
  if (WIDE_N) { store_block(row, col + WG_X * 4u, c_base, acc10, acc11, acc12, acc13); }
  if (WIDE_M) {
    let row1 = row + WG_Y * 4u;
    store_block(row1, col, c_base, acc04, acc05, acc06, acc07);
    if (WIDE_N) { store_block(row1, col + WG_X * 4u, c_base, acc14, acc15, acc16, acc17); }
  }
}
