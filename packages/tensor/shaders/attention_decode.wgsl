// Fused attention for a few query rows against a long key cache (decoding: Tq = 1 per head),
// split over the keys (split-K, "flash decoding"): the (bh, i) row's visible keys are cut into
// S chunks, one workgroup per (bh, i, chunk), so a 12-head model decoding one token fills 12 S
// workgroups instead of 12. Each workgroup walks its chunk WG keys at a time: every thread scores
// one key (q . k, q in workgroup memory), every thread takes the tile's max and the running
// softmax update (online softmax, as attention.wgsl), then thread t adds the weighted values of
// dims t, t + WG, ... (consecutive threads read consecutive elements of a value row).
// DIRECT (S = 1): the row's output and log-sum-exp are written as attention.wgsl writes them.
// Otherwise the chunk's partial result goes to out/lse as (m, l, o): m the chunk's max score,
// l = sum exp(s - m) (undropped), o = sum exp(s - m) drop v (unnormalised); empty chunks write
// m = NEG, l = 0, o = 0; attention_decode_combine.wgsl merges the S partials of each row.
// Dropout (if any) is drop_factor's, so masks equal attention.wgsl's weight for weight.
// Bindings: 0 params, 1 q, 2 k, 3 v (lib_attention; R = 1), 4 out or partial o, 5 lse or partial (m, l).
//! include "lib_attention.wgsl"
override DIRECT: bool = true;

@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

var<workgroup> so: array<f32, HD>;
var<workgroup> sscore: array<f32, WG>;
var<workgroup> sw: array<f32, WG>;
var<workgroup> swd: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wg.x + wg.y * p.groups_x;
  let S = p.blocks;
  let row = block / S; // bh * Tq + i
  if (row >= p.BH * p.Tq) { return; }
  let split = block % S;
  let bh = row / p.Tq;
  let i = row % p.Tq;
  let t = lid.x;
  // Chunks of whole tiles: ceil(Tk / S) keys rounded up to WG (the host picks S to match).
  let chunk = ((p.Tk + S - 1u) / S + WG - 1u) / WG * WG;
  let begin = split * chunk;
  let end = min(begin + chunk, visible(i));
  for (var d = t; d < HD; d += WG) {
    sq[d] = q_at(bh, i, d);
    so[d] = 0.0;
  }
  var m = NEG;
  var l = 0.0;
  for (var c0 = begin; c0 < end; c0 += WG) {
    workgroupBarrier();
    let j = c0 + t;
    var s = NEG;
    if (j < end) {
      let kr = k_row(bh, j);
      var acc = 0.0;
      for (var d = 0u; d < HD; d++) { acc += sq[d] * k[kr + d]; }
      s = acc * p.scale;
    }
    sscore[t] = s;
    workgroupBarrier();
    var m_new = m;
    for (var c = 0u; c < WG; c++) { m_new = max(m_new, sscore[c]); }
    var w = 0.0;
    if (s > NEG) { w = exp(s - m_new); }
    sw[t] = w;
    swd[t] = select(0.0, w * drop_factor(bh, i, j), w != 0.0);
    let alpha = exp(m - m_new);
    m = m_new;
    workgroupBarrier();
    var sum = 0.0;
    for (var c = 0u; c < WG; c++) { sum += sw[c]; }
    l = l * alpha + sum;
    let n = min(WG, end - c0);
    for (var d = t; d < HD; d += WG) {
      var acc = so[d] * alpha;
      var vr = v_row(bh, c0);
      for (var c = 0u; c < n; c++) {
        acc += swd[c] * v[vr + d];
        vr += p.v_st;
      }
      so[d] = acc;
    }
  }
  if (DIRECT) {
    for (var d = t; d < HD; d += WG) { out[p.o_base + row * HD + d] = so[d] / l; }
    if (t == 0u) { lse[p.lse_base + row] = m + log(l); }
  } else {
    let part = row * S + split;
    for (var d = t; d < HD; d += WG) { out[p.o_base + part * HD + d] = so[d]; }
    if (t == 0u) {
      lse[p.lse_base + part * 2u] = m;
      lse[p.lse_base + part * 2u + 1u] = l;
    }
  }
}
