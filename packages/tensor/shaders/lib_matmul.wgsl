// The body of the matmul kernels (matmul.wgsl, matmul_f16.wgsl): everything but how B is bound
// and read, which the including file defines first: binding 3 `b` and `fn b_load(i: u32) -> f32`
// (element i of B's binding as float32). See matmul.wgsl for the tiling.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// Add to C instead of overwriting it (the host splits a long K into several dispatches).
override ACCUMULATE: bool = false;

const TILE: u32 = 64u;
const DEPTH: u32 = 16u;

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
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

// a_slab[k * 16 + m / 4] holds A(m .. m+3, k); b_slab[k * 16 + n / 4] holds B(k, n .. n+3).
var<workgroup> a_slab: array<vec4<f32>, 256>;
var<workgroup> b_slab: array<vec4<f32>, 256>;

fn a_at(base: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return a[base + k * p.lda + m]; }
  return a[base + m * p.lda + k];
}

fn b_at(base: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (TRANS_B) { return b_load(base + n * p.ldb + k); }
  return b_load(base + k * p.ldb + n);
}

// Invocation t loads 4 elements along A's stored rows (contiguous in memory).
fn load_a_slab(t: u32, base: u32, row0: u32, k0: u32) {
  if (TRANS_A) {
    let k = t / 16u;
    let m = (t % 16u) * 4u;
    a_slab[k * 16u + m / 4u] = vec4<f32>(a_at(base, row0 + m, k0 + k), a_at(base, row0 + m + 1u, k0 + k),
                                         a_at(base, row0 + m + 2u, k0 + k), a_at(base, row0 + m + 3u, k0 + k));
  } else {
    let m = t / 4u;
    let k = (t % 4u) * 4u;
    a_slab[k * 16u + m / 4u][m % 4u] = a_at(base, row0 + m, k0 + k);
    a_slab[(k + 1u) * 16u + m / 4u][m % 4u] = a_at(base, row0 + m, k0 + k + 1u);
    a_slab[(k + 2u) * 16u + m / 4u][m % 4u] = a_at(base, row0 + m, k0 + k + 2u);
    a_slab[(k + 3u) * 16u + m / 4u][m % 4u] = a_at(base, row0 + m, k0 + k + 3u);
  }
}

fn load_b_slab(t: u32, base: u32, col0: u32, k0: u32) {
  if (TRANS_B) {
    let n = t / 4u;
    let k = (t % 4u) * 4u;
    b_slab[k * 16u + n / 4u][n % 4u] = b_at(base, k0 + k, col0 + n);
    b_slab[(k + 1u) * 16u + n / 4u][n % 4u] = b_at(base, k0 + k + 1u, col0 + n);
    b_slab[(k + 2u) * 16u + n / 4u][n % 4u] = b_at(base, k0 + k + 2u, col0 + n);
    b_slab[(k + 3u) * 16u + n / 4u][n % 4u] = b_at(base, k0 + k + 3u, col0 + n);
  } else {
    let k = t / 16u;
    let n = (t % 16u) * 4u;
    b_slab[k * 16u + n / 4u] = vec4<f32>(b_at(base, k0 + k, col0 + n), b_at(base, k0 + k, col0 + n + 1u),
                                         b_at(base, k0 + k, col0 + n + 2u), b_at(base, k0 + k, col0 + n + 3u));
  }
}

fn store_row(row: u32, col: u32, values: vec4<f32>, c_base: u32) {
  if (row >= p.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = col + j;
    if (n < p.N) {
      var v = values[j];
      if (HAS_BIAS) { v += bias[p.bias_base + n]; }
      let at = c_base + row * p.ldc + n;
      if (ACCUMULATE) { v += c[at]; }
      c[at] = v;
    }
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  let t = lid.y * 16u + lid.x;
  let a_base = p.a_base + wg.z * p.a_batch;
  let b_base = p.b_base + wg.z * p.b_batch;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.K; k0 += DEPTH) {
    load_a_slab(t, a_base, row0, k0);
    load_b_slab(t, b_base, col0, k0);
    workgroupBarrier();
    for (var k = 0u; k < DEPTH; k++) {
      let av = a_slab[k * 16u + lid.y];
      let bv = b_slab[k * 16u + lid.x];
      acc0 += av.x * bv;
      acc1 += av.y * bv;
      acc2 += av.z * bv;
      acc3 += av.w * bv;
    }
    workgroupBarrier();
  }
  let c_base = p.c_base + wg.z * p.c_batch;
  let row = row0 + lid.y * 4u;
  let col = col0 + lid.x * 4u;
  store_row(row, col, acc0, c_base);
  store_row(row + 1u, col, acc1, c_base);
  store_row(row + 2u, col, acc2, c_base);
  store_row(row + 3u, col, acc3, c_base);
}
