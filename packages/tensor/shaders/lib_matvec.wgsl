// The body of the matvec kernels (matvec.wgsl): everything but how B is stored, which the
// including file defines first: binding 3 `b`, `fn b_elem(i) -> f32` (element i of the binding)
// and `fn b_word(w) -> vec2<f32>` (the elements of 32-bit word w; PACKED paths only).
//
// Up to 4 rows of A (ROWS, an override) against B, float32 accumulation. Each of the 256
// invocations of a workgroup keeps one vec4 of partial sums per output column it owns (one
// component per row of A), walks its share of K, and the workgroup then adds the shares up in
// workgroup memory. Global loads of B are 32-bit words, consecutive invocations reading
// consecutive words (coalesced on a GPU; one vector load on SwiftShader, which checks for
// sequential lanes); a 16-bit word carries two elements, both used (PACKED). Loops have at
// most K iterations, and the host keeps K per dispatch at 16,384 (llvmpipe's loop cap).
//
// TRANS_B (B stored (N, K): the tied output head, q @ k^T): each output column is a dot product
// of two contiguous rows. A workgroup owns 8 columns; 32 invocations share each, walking K.
// Plain B (stored (K, N): the model's linear weights): each invocation owns one word of a row
// of B (one column, two when PACKED) and a slice of K (SLICES slices interleaved by k); a
// workgroup owns COLS words, COLS * SLICES = 256. The host picks COLS = 16 for narrow outputs,
// so that 768 columns still give 48 workgroups.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// Add to C instead of overwriting it (the host splits a long K into several dispatches).
override ACCUMULATE: bool = false;
// Rows of A, 1..4 (p.M is the same number; a constant lets the loops over rows unroll).
override ROWS: u32 = 1u;
// 16-bit B whose rows (plain: rows of K; TRANS_B: rows of N) start on a word: read whole words.
override PACKED: bool = false;
override COLS: u32 = 64u;

const WG: u32 = 256u;
const LANES: u32 = 32u; // TRANS_B: invocations per output column
override SLICES: u32 = WG / COLS;

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

// Partial sums: one vec4 (the rows of A) per invocation and column it owns.
var<workgroup> partial: array<vec4<f32>, 512>;

// Column k of A's rows as a vec4 (rows past ROWS are 0).
fn a_col(base: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var m = 0u; m < ROWS; m++) {
    if (TRANS_A) {
      v[m] = a[base + k * p.lda + m];
    } else {
      v[m] = a[base + m * p.lda + k];
    }
  }
  return v;
}

fn store(m: u32, n: u32, value: f32, c_base: u32) {
  var v = value;
  if (HAS_BIAS) { v += bias[p.bias_base + n]; }
  let at = c_base + m * p.ldc + n;
  if (ACCUMULATE) { v += c[at]; }
  c[at] = v;
}

fn store_col(n: u32, sums: vec4<f32>, c_base: u32) {
  if (n >= p.N) { return; }
  for (var m = 0u; m < ROWS; m++) {
    store(m, n, sums[m], c_base);
  }
}

// TRANS_B: invocation t = r * 32 + lane adds lane's share of column wg * 8 + r.
fn dot_rows(wg: u32, t: u32, a_base: u32, b_base: u32, c_base: u32) {
  let r = t / LANES;
  let lane = t % LANES;
  let n = wg * (WG / LANES) + r;
  var acc = vec4<f32>(0.0);
  if (n < p.N) {
    let row = b_base + n * p.ldb;
    if (PACKED) {
      // Word j holds k = 2j and 2j + 1; an odd K's last word holds one element of this row.
      let first = row / 2u;
      let words = (p.K + 1u) / 2u;
      for (var j = lane; j < words; j += LANES) {
        let w = b_word(first + j);
        let k = 2u * j;
        acc += a_col(a_base, k) * w.x;
        if (k + 1u < p.K) { acc += a_col(a_base, k + 1u) * w.y; }
      }
    } else {
      for (var k = lane; k < p.K; k += LANES) {
        acc += a_col(a_base, k) * b_elem(row + k);
      }
    }
  }
  partial[t] = acc;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) { partial[t] += partial[t + stride]; }
    workgroupBarrier();
  }
  if (lane == 0u) { store_col(n, partial[t], c_base); }
}

// Plain B: invocation t = slice * COLS + col adds k = slice, slice + SLICES, ... for word
// wg * COLS + col of B's rows (column n, or columns 2n and 2n + 1 when PACKED).
fn dot_cols(wg: u32, t: u32, a_base: u32, b_base: u32, c_base: u32) {
  let col = t % COLS;
  let slice = t / COLS;
  let word = wg * COLS + col;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  if (PACKED) {
    let n = 2u * word;
    if (n < p.N) {
      let base = b_base / 2u + word;
      let ldw = p.ldb / 2u;
      for (var k = slice; k < p.K; k += SLICES) {
        let w = b_word(base + k * ldw);
        let av = a_col(a_base, k);
        acc0 += av * w.x;
        acc1 += av * w.y;
      }
    }
  } else if (word < p.N) {
    for (var k = slice; k < p.K; k += SLICES) {
      acc0 += a_col(a_base, k) * b_elem(b_base + k * p.ldb + word);
    }
  }
  partial[t] = acc0;
  partial[WG + t] = acc1;
  workgroupBarrier();
  if (slice == 0u) {
    var s0 = acc0;
    var s1 = acc1;
    for (var s = 1u; s < SLICES; s++) {
      s0 += partial[s * COLS + col];
      s1 += partial[WG + s * COLS + col];
    }
    if (PACKED) {
      store_col(2u * word, s0, c_base);
      // An odd N: the last word's second element belongs to the next row of B.
      if (2u * word + 1u < p.N) { store_col(2u * word + 1u, s1, c_base); }
    } else {
      store_col(word, s0, c_base);
    }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let a_base = p.a_base + wg.z * p.a_batch;
  let b_base = p.b_base + wg.z * p.b_batch;
  let c_base = p.c_base + wg.z * p.c_batch;
  if (TRANS_B) {
    dot_rows(wg.x, t, a_base, b_base, c_base);
  } else {
    dot_cols(wg.x, t, a_base, b_base, c_base);
  }
}
