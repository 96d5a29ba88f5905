// Fused causal attention, forward (FlashAttention-2): out = softmax(scale q k^T, mask) with
// dropout, times v, and each row's log-sum-exp for the backward. The (Tq, Tk) weights exist
// only as one R x R tile in workgroup memory at a time.
// Bindings: 0 params, 1 q, 2 k, 3 v (lib_attention), 4 out (B, nh, Tq, HD), 5 lse (B, nh, Tq).
// One workgroup: R query rows of one (batch, head). It walks the key tiles its rows can see:
// scores tile (one dot per entry), then per row the running max m and sum l (online softmax:
// earlier sums and outputs rescaled by exp(m_old - m_new)), then out += weights x V tile.
// The sum l counts the undropped weights (dropout comes after softmax); out the dropped ones.
//! include "lib_attention.wgsl"

@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

var<workgroup> so: array<f32, R * HD>;
var<workgroup> ss: array<f32, R * R>;
var<workgroup> row_m: array<f32, R>;
var<workgroup> row_l: array<f32, R>;
var<workgroup> row_alpha: array<f32, R>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wg.x + wg.y * p.groups_x;
  let bh = block / p.blocks;
  if (bh >= p.BH) { return; }
  let r0 = (block % p.blocks) * R;
  let t = lid.x;
  for (var e = t; e < R * HD; e += WG) {
    sq[e] = q_at(bh, r0 + e / HD, e % HD);
    so[e] = 0.0;
  }
  if (t < R) { row_m[t] = NEG; row_l[t] = 0.0; }
  let key_end = visible(min(r0 + R, p.Tq) - 1u);
  for (var c0 = 0u; c0 < key_end; c0 += R) {
    workgroupBarrier();
    for (var e = t; e < R * HD; e += WG) {
      sk[e] = k_at(bh, c0 + e / HD, e % HD);
      sv[e] = v_at(bh, c0 + e / HD, e % HD);
    }
    workgroupBarrier();
    for (var e = t; e < R * R; e += WG) {
      let r = e / R;
      let c = e % R;
      var s = NEG;
      if (r0 + r < p.Tq && c0 + c < visible(r0 + r)) {
        var acc = 0.0;
        for (var d = 0u; d < HD; d++) { acc += sq[r * HD + d] * sk[c * HD + d]; }
        s = acc * p.scale;
      }
      ss[e] = s;
    }
    workgroupBarrier();
    if (t < R) {
      var m = row_m[t];
      for (var c = 0u; c < R; c++) { m = max(m, ss[t * R + c]); }
      var sum = 0.0;
      for (var c = 0u; c < R; c++) {
        let s = ss[t * R + c];
        var w = 0.0;
        if (s > NEG) { w = exp(s - m); }
        sum += w;
        ss[t * R + c] = select(0.0, w * drop_factor(bh, r0 + t, c0 + c), w != 0.0);
      }
      let alpha = exp(row_m[t] - m);
      row_l[t] = row_l[t] * alpha + sum;
      row_m[t] = m;
      row_alpha[t] = alpha;
    }
    workgroupBarrier();
    for (var e = t; e < R * HD; e += WG) {
      let r = e / HD;
      let d = e % HD;
      var acc = so[e] * row_alpha[r];
      for (var c = 0u; c < R; c++) { acc += ss[r * R + c] * sv[c * HD + d]; }
      so[e] = acc;
    }
  }
  workgroupBarrier();
  for (var e = t; e < R * HD; e += WG) {
    let i = r0 + e / HD;
    if (i < p.Tq) { out[p.o_base + (bh * p.Tq + i) * HD + e % HD] = so[e] / row_l[e / HD]; }
  }
  if (t < R && r0 + t < p.Tq) { lse[p.lse_base + bh * p.Tq + r0 + t] = row_m[t] + log(row_l[t]); }
}
