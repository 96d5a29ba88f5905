// Shared by attention.wgsl and its two backward kernels (FlashAttention-2's blocking, Dao 2023):
// the uniforms, where a row of q, k, v or a contiguous (B, nh, T, hd) tensor starts, the causal
// mask, and the dropout factor of one attention weight (the mask dropout.wgsl draws on the
// (B, nh, Tq, Tk) weights: word e & 1 of Threefry(key, (e >> 1, stream)), e the weight's index).
// A workgroup holds tiles of R rows (queries or keys) of HD elements in workgroup memory; the
// host picks R so that the kernel's tiles fit maxComputeWorkgroupStorageSize.
// Scores use NEG for "masked" (WGSL has no -inf constant): exp(NEG - m) is 0 for any finite m.
//! include "lib_threefry.wgsl"
override WG: u32 = 64u;
override R: u32 = 8u;
override HD: u32 = 64u;

const NEG: f32 = -3.0e38;

struct Params {
  BH: u32, nh: u32, Tq: u32, Tk: u32,
  // q, k, v: element (b, h, t, 0) is at base + b sb + h sh + t st (unit stride over hd)
  q_base: u32, q_sb: u32, q_sh: u32, q_st: u32,
  k_base: u32, k_sb: u32, k_sh: u32, k_st: u32,
  v_base: u32, v_sb: u32, v_sh: u32, v_st: u32,
  // contiguous operands: out or dout, lse, delta, then the outputs dq or (dk, dv)
  o_base: u32, lse_base: u32, delta_base: u32, g1_base: u32,
  g2_base: u32, causal: u32, scale: f32, dropping: u32,
  key: vec2<u32>, stream: u32, threshold: u32,
  drop_scale: f32, blocks: u32, groups_x: u32,
  // the backward's dout (at o_base) and its outputs (g1: dq or dk, g2: dv): strides over
  // (b, h, t) as q's, unit stride over hd; the forward's out is contiguous and ignores them
  do_sb: u32, do_sh: u32, do_st: u32,
  g1_sb: u32, g1_sh: u32, g1_st: u32,
  g2_sb: u32, g2_sh: u32, g2_st: u32,
  // the backward's out (contiguous), read by attention_backward_q.wgsl to compute delta
  out_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;

// Tiles of R rows of q, k, v that every kernel loads (a kernel's workgroup memory counts only
// the variables it uses).
var<workgroup> sq: array<f32, R * HD>;
var<workgroup> sk: array<f32, R * HD>;
var<workgroup> sv: array<f32, R * HD>;

fn q_row(bh: u32, t: u32) -> u32 { return p.q_base + (bh / p.nh) * p.q_sb + (bh % p.nh) * p.q_sh + t * p.q_st; }
fn k_row(bh: u32, t: u32) -> u32 { return p.k_base + (bh / p.nh) * p.k_sb + (bh % p.nh) * p.k_sh + t * p.k_st; }
fn v_row(bh: u32, t: u32) -> u32 { return p.v_base + (bh / p.nh) * p.v_sb + (bh % p.nh) * p.v_sh + t * p.v_st; }

fn do_row(bh: u32, t: u32) -> u32 { return p.o_base + (bh / p.nh) * p.do_sb + (bh % p.nh) * p.do_sh + t * p.do_st; }
fn g1_row(bh: u32, t: u32) -> u32 { return p.g1_base + (bh / p.nh) * p.g1_sb + (bh % p.nh) * p.g1_sh + t * p.g1_st; }
fn g2_row(bh: u32, t: u32) -> u32 { return p.g2_base + (bh / p.nh) * p.g2_sb + (bh % p.nh) * p.g2_sh + t * p.g2_st; }

// Element d of row t of head bh of q, k or v; 0 past the last row (tiles pad with zeros).
fn q_at(bh: u32, t: u32, d: u32) -> f32 { if (t >= p.Tq) { return 0.0; } return q[q_row(bh, t) + d]; }
fn k_at(bh: u32, t: u32, d: u32) -> f32 { if (t >= p.Tk) { return 0.0; } return k[k_row(bh, t) + d]; }
fn v_at(bh: u32, t: u32, d: u32) -> f32 { if (t >= p.Tk) { return 0.0; } return v[v_row(bh, t) + d]; }

/** Keys query i sees: j < visible(i) (causal: j <= i + Tk - Tq). */
fn visible(i: u32) -> u32 {
  if (p.causal == 0u) { return p.Tk; }
  return min(p.Tk, i + p.Tk - p.Tq + 1u);
}

/** The factor dropout multiplies weight (bh, i, j) by: 0 or 1 / (1 - p); 1 without dropout. */
fn drop_factor(bh: u32, i: u32, j: u32) -> f32 {
  if (p.dropping == 0u) { return 1.0; }
  let e = (bh * p.Tq + i) * p.Tk + j;
  let bits = threefry2x32(p.key, vec2<u32>(e >> 1u, p.stream));
  let word = select(bits.x, bits.y, (e & 1u) == 1u);
  return select(0.0, p.drop_scale, word >= p.threshold);
}
