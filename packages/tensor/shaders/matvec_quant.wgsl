// Matmul with a block-quantized weight (packages/tensor/src/quantized.ts): out[m, n] =
// sum_k a[m, k] * W[n, k] (+ bias[n]) for the rows n of W bound in this dispatch. W is N rows
// of `nb` blocks of 32 weights along K: q8_0 (FORMAT 0) 32 signed bytes a block (8 words),
// q4_0 (FORMAT 1) 16 bytes (4 words), byte j holding element j (low nibble) and j + 16 (high),
// stored + 8; one float16 scale a block in `scales` (two a word). The integers are read as
// packed u32 words and unpacked in registers; the products accumulate in float32 against the
// exactly decoded weights (no activation rounding).
// One workgroup per output (m, n): its WG invocations take every WG-th block of the row, then
// add up their sums (lib_group_sum.wgsl: a tree in workgroup memory, or subgroupAdd).
// Grid: rows * M workgroups, folded into 2-D.
// Bindings: 0 params, 1 out (M, N), 2 a (M, K), 3 data (u32 words), 4 scales (u32 words), 5 bias.
override WG: u32 = 64u;
override FORMAT: u32 = 0u;
override HAS_BIAS: bool = false;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  nb: u32,
  row0: u32,
  rows: u32,
  data_base: u32,
  scale_base: u32,
  a_base: u32,
  out_base: u32,
  bias_base: u32,
  grid_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> data: array<u32>;
@group(0) @binding(4) var<storage, read> scales: array<u32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;

var<workgroup> partial: array<f32, WG>;
//! include "lib_group_sum.wgsl"

// a[m, k] as float32, 0 past K (the padded tail of the last block).
fn act(row: u32, k: u32) -> f32 {
  if (k >= p.K) { return 0.0; }
  return a[row + k];
}

fn sext8(b: u32) -> f32 {
  return f32((i32(b << 24u)) >> 24u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let item = wid.x + wid.y * p.grid_x;
  if (item >= p.rows * p.M) { return; }
  let r = item % p.rows; // the row of W within this dispatch
  let m = item / p.rows;
  let arow = p.a_base + m * p.K;
  var sum = 0.0;
  for (var b = lid.x; b < p.nb; b += WG) {
    let blk = r * p.nb + b;
    let sidx = p.scale_base + blk;
    let d = unpack2x16float(scales[sidx >> 1u])[sidx & 1u];
    let k0 = b * 32u;
    var s = 0.0;
    if (FORMAT == 0u) {
      let w0 = p.data_base + blk * 8u;
      for (var j = 0u; j < 8u; j++) {
        let word = data[w0 + j];
        let k = k0 + 4u * j;
        s += sext8(word & 0xffu) * act(arow, k) + sext8((word >> 8u) & 0xffu) * act(arow, k + 1u)
           + sext8((word >> 16u) & 0xffu) * act(arow, k + 2u) + sext8(word >> 24u) * act(arow, k + 3u);
      }
    } else {
      let w0 = p.data_base + blk * 4u;
      for (var j = 0u; j < 4u; j++) {
        let word = data[w0 + j];
        for (var t = 0u; t < 4u; t++) {
          let byte = (word >> (8u * t)) & 0xffu;
          let k = k0 + 4u * j + t;
          s += (f32(byte & 15u) - 8.0) * act(arow, k) + (f32(byte >> 4u) - 8.0) * act(arow, k + 16u);
        }
      }
    }
    sum += s * d;
  }
  partial[lid.x] = sum;
  let total = group_sum(lid.x);
  if (lid.x == 0u) {
    let n = p.row0 + r;
    var v = total;
    if (HAS_BIAS) { v += bias[p.bias_base + n]; }
    out[p.out_base + m * p.N + n] = v;
  }
}
