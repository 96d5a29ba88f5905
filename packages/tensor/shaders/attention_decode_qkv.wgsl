// One decoding step of a transformer block's attention, from the block's input rows to the
// heads' outputs, in one dispatch (decodeAttention, ops/decode.ts): for each of ROWS sequences
// (one new token each), layer norm of its row x, q | k | v = LN(x) W + bias (W (C, 3C), GPT-2's
// c_attn), k and v written into the KV cache at position `pos`, and attention of q over the
// cached positions 0..pos. It replaces LN, the qkv matvec, two cache copies and attention_decode.
// One workgroup per head h (nh workgroups): the row's layer norm is repeated by every head
// (lib_norm_rows.wgsl: 2 C reads a row beside the 3 hd x C multiply-adds of its columns); thread
// t computes columns t, t + 64, ... of the head's 3 hd (q, k, v of dims d), all rows at once so
// W is read once; q stays in workgroup memory; then attention_decode.wgsl's loop for each row
// (every thread scores one key of a tile of 64, online softmax, thread t sums dims t, t + 64, ...).
// The keys are not split over workgroups (attention_decode.wgsl's split-K): nh workgroups do
// the whole step, which keeps the LN and the projection inside them.
// Bindings: 0 params, 1 out (ROWS, C), 2 x (ROWS, C), 3 W (lib_matvec_float.wgsl), 4 bias (3C),
// 5 norm weight (C), 6 norm bias (C), 7 keys, 8 values (B, nh, maxT, HD) contiguous, rows = B.
//! include "lib_matvec_float.wgsl"
override ROWS: u32 = 1u;
override HD: u32 = 64u;
override HAS_BIAS: bool = false;
const WG: u32 = 64u;
const NEG: f32 = -3.0e38;

struct Params {
  C: u32,
  nh: u32,
  pos: u32,       // the new token's position; keys 0..pos are attended to
  maxT: u32,
  x_base: u32,
  w_base: u32,
  ldw: u32,       // row stride of W (3C for a contiguous W)
  bias_base: u32,
  norm_w_base: u32,
  norm_b_base: u32,
  k_base: u32,
  v_base: u32,
  out_base: u32,
  eps: f32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> norm_w: array<f32>;
@group(0) @binding(6) var<storage, read> norm_b: array<f32>;
@group(0) @binding(7) var<storage, read_write> kc: array<f32>;
@group(0) @binding(8) var<storage, read_write> vc: array<f32>;

//! include "lib_norm_rows.wgsl"

fn norm_src(i: u32) -> f32 { return x[i]; }
fn norm_gamma(k: u32) -> f32 { return norm_w[p.norm_w_base + k]; }
fn norm_beta(k: u32) -> f32 { return norm_b[p.norm_b_base + k]; }

var<workgroup> sq: array<f32, ROWS * HD>;
var<workgroup> so: array<f32, HD>;
var<workgroup> sscore: array<f32, WG>;
var<workgroup> sw: array<f32, WG>;

// Where row j of (sequence m, head h) starts in the caches (relative to k_base / v_base).
fn cache_row(m: u32, h: u32, j: u32) -> u32 {
  return ((m * p.nh + h) * p.maxT + j) * HD;
}

// Column `col` of W against the normed rows: one sum a row (constant conditions: per pipeline).
fn project(col: u32) -> array<f32, 4> {
  var acc = array<f32, 4>();
  var at = p.w_base + col;
  for (var k = 0u; k < p.C; k++) {
    let w = b_elem(at);
    acc[0] += xn[k] * w;
    if (ROWS > 1u) { acc[1] += xn[p.C + k] * w; }
    if (ROWS > 2u) { acc[2] += xn[2u * p.C + k] * w; }
    if (ROWS > 3u) { acc[3] += xn[3u * p.C + k] * w; }
    at += p.ldw;
  }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = wg.x;
  let t = lid.x;
  normalize_rows(t, p.x_base, p.C, p.C, p.eps);
  for (var j = t; j < 3u * HD; j += WG) {
    let part = j / HD; // 0 q, 1 k, 2 v
    let d = j % HD;
    let col = part * p.C + h * HD + d;
    let acc = project(col);
    for (var m = 0u; m < ROWS; m++) {
      var v = acc[m];
      if (HAS_BIAS) { v += bias[p.bias_base + col]; }
      if (part == 0u) {
        sq[m * HD + d] = v;
      } else if (part == 1u) {
        kc[p.k_base + cache_row(m, h, p.pos) + d] = v;
      } else {
        vc[p.v_base + cache_row(m, h, p.pos) + d] = v;
      }
    }
  }
  // The new key and value rows were written by other invocations of this workgroup.
  storageBarrier();
  workgroupBarrier();
  let Tk = p.pos + 1u;
  for (var m = 0u; m < ROWS; m++) {
    for (var d = t; d < HD; d += WG) { so[d] = 0.0; }
    var mx = NEG;
    var l = 0.0;
    for (var c0 = 0u; c0 < Tk; c0 += WG) {
      workgroupBarrier();
      let j = c0 + t;
      var s = NEG;
      if (j < Tk) {
        let kr = p.k_base + cache_row(m, h, j);
        var acc = 0.0;
        for (var d = 0u; d < HD; d++) { acc += sq[m * HD + d] * kc[kr + d]; }
        s = acc * p.scale;
      }
      sscore[t] = s;
      workgroupBarrier();
      var m_new = mx;
      for (var c = 0u; c < WG; c++) { m_new = max(m_new, sscore[c]); }
      var w = 0.0;
      if (s > NEG) { w = exp(s - m_new); }
      sw[t] = w;
      let alpha = exp(mx - m_new);
      mx = m_new;
      workgroupBarrier();
      var sum = 0.0;
      for (var c = 0u; c < WG; c++) { sum += sw[c]; }
      l = l * alpha + sum;
      let n = min(WG, Tk - c0);
      for (var d = t; d < HD; d += WG) {
        var acc = so[d] * alpha;
        var vr = p.v_base + cache_row(m, h, c0);
        for (var c = 0u; c < n; c++) {
          acc += sw[c] * vc[vr + d];
          vr += HD;
        }
        so[d] = acc;
      }
    }
    for (var d = t; d < HD; d += WG) { out[p.out_base + m * p.C + h * HD + d] = so[d] / l; }
    workgroupBarrier();
  }
}
