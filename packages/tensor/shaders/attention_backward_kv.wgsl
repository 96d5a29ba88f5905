// Fused attention, backward for dk and dv (FlashAttention-2): with the weights recomputed as in
// attention_backward_q.wgsl, dv_j = sum_i p_ij drop_ij dout_i and dk_j = scale sum_i ds_ij q_i.
// Bindings: 0 params, 1 q, 2 k, 3 v (lib_attention), 4 dout, 5 lse, 6 delta, 7 dk and dv.
// One workgroup: R keys of one (batch, head), walking the query rows that see them (causal:
// from row c0 - (Tk - Tq) on) R at a time: weight and ds tiles, then dv += weights^T x dout
// tile, dk += ds^T x Q tile. Each key's sums stay in one workgroup (no atomics).
//! include "lib_attention.wgsl"

@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
// dk and dv: one binding over both (Dawn refuses two writable bindings of one buffer that
// overlap, and in the fused qkv gradient their rows interleave), at g1_row and g2_row.
@group(0) @binding(7) var<storage, read_write> dkv: array<f32>;

var<workgroup> sdk: array<f32, R * HD>;
var<workgroup> sdv: array<f32, R * HD>;
var<workgroup> sdo: array<f32, R * HD>;
var<workgroup> sw: array<f32, R * R>;
var<workgroup> sds: array<f32, R * R>;
var<workgroup> row_lse: array<f32, R>;
var<workgroup> row_delta: array<f32, R>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wg.x + wg.y * p.groups_x;
  let bh = block / p.blocks;
  if (bh >= p.BH) { return; }
  let c0 = (block % p.blocks) * R;
  let t = lid.x;
  for (var e = t; e < R * HD; e += WG) {
    sk[e] = k_at(bh, c0 + e / HD, e % HD);
    sv[e] = v_at(bh, c0 + e / HD, e % HD);
    sdk[e] = 0.0;
    sdv[e] = 0.0;
  }
  // The first query that sees key c0: i + Tk - Tq >= c0.
  var first = 0u;
  if (p.causal == 1u && c0 + p.Tq > p.Tk) { first = c0 + p.Tq - p.Tk; }
  for (var i0 = first; i0 < p.Tq; i0 += R) {
    workgroupBarrier();
    for (var e = t; e < R * HD; e += WG) {
      let i = i0 + e / HD;
      sq[e] = q_at(bh, i, e % HD);
      sdo[e] = 0.0;
      if (i < p.Tq) { sdo[e] = dout[do_row(bh, i) + e % HD]; }
    }
    if (t < R && i0 + t < p.Tq) {
      row_lse[t] = lse[p.lse_base + bh * p.Tq + i0 + t];
      row_delta[t] = delta[p.delta_base + bh * p.Tq + i0 + t];
    }
    workgroupBarrier();
    for (var e = t; e < R * R; e += WG) {
      let r = e / R;
      let c = e % R;
      var w = 0.0;
      var ds = 0.0;
      if (i0 + r < p.Tq && c0 + c < visible(i0 + r)) {
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < HD; d++) {
          s += sq[r * HD + d] * sk[c * HD + d];
          dp += sdo[r * HD + d] * sv[c * HD + d];
        }
        let prob = exp(s * p.scale - row_lse[r]);
        let f = drop_factor(bh, i0 + r, c0 + c);
        w = prob * f;
        ds = prob * (dp * f - row_delta[r]);
      }
      sw[e] = w;
      sds[e] = ds;
    }
    workgroupBarrier();
    for (var e = t; e < R * HD; e += WG) {
      let c = e / HD;
      let d = e % HD;
      var acc_v = sdv[e];
      var acc_k = sdk[e];
      for (var r = 0u; r < R; r++) {
        acc_v += sw[r * R + c] * sdo[r * HD + d];
        acc_k += sds[r * R + c] * sq[r * HD + d];
      }
      sdv[e] = acc_v;
      sdk[e] = acc_k;
    }
  }
  workgroupBarrier();
  for (var e = t; e < R * HD; e += WG) {
    let j = c0 + e / HD;
    if (j < p.Tk) {
      dkv[g1_row(bh, j) + e % HD] = sdk[e] * p.scale;
      dkv[g2_row(bh, j) + e % HD] = sdv[e];
    }
  }
}
