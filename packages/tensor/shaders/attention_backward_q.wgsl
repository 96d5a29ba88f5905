// Fused attention, backward for dq (FlashAttention-2): the weights are recomputed from the
// forward's log-sum-exp, p = exp(s - lse); dp = drop (dout . v); ds = p (dp - delta), delta =
// dout . out; dq = scale sum_j ds_j k_j. attention_backward_kv.wgsl computes dk and dv.
// Bindings: 0 params, 1 q, 2 k, 3 v (lib_attention), 4 dout, 5 lse, 6 delta (written here),
// 7 dq, 8 out. dout and dq go through their strides (do_row, g1_row): dq may be a view into the
// fused qkv gradient. Threads 0..R-1 first compute their row's delta = dout . out.
// One workgroup: R query rows of one (batch, head), walking the key tiles they see: ds tile,
// then dq += ds x K tile. Nothing is shared between workgroups (no atomics).
//! include "lib_attention.wgsl"

@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> delta: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
@group(0) @binding(8) var<storage, read> out: array<f32>;

var<workgroup> sdo: array<f32, R * HD>;
var<workgroup> sdq: array<f32, R * HD>;
var<workgroup> sds: array<f32, R * R>;
var<workgroup> row_lse: array<f32, R>;
var<workgroup> row_delta: array<f32, R>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wg.x + wg.y * p.groups_x;
  let bh = block / p.blocks;
  if (bh >= p.BH) { return; }
  let r0 = (block % p.blocks) * R;
  let t = lid.x;
  for (var e = t; e < R * HD; e += WG) {
    let i = r0 + e / HD;
    sq[e] = q_at(bh, i, e % HD);
    sdo[e] = 0.0;
    if (i < p.Tq) { sdo[e] = dout[do_row(bh, i) + e % HD]; }
    sdq[e] = 0.0;
  }
  if (t < R && r0 + t < p.Tq) {
    // delta = dout . out for this row, written for attention_backward_kv.wgsl (which runs after)
    let i = r0 + t;
    let o = p.out_base + (bh * p.Tq + i) * HD;
    let g = do_row(bh, i);
    var acc = 0.0;
    for (var d = 0u; d < HD; d++) { acc += dout[g + d] * out[o + d]; }
    row_lse[t] = lse[p.lse_base + bh * p.Tq + i];
    row_delta[t] = acc;
    delta[p.delta_base + bh * p.Tq + i] = acc;
  }
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
      var ds = 0.0;
      if (r0 + r < p.Tq && c0 + c < visible(r0 + r)) {
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < HD; d++) {
          s += sq[r * HD + d] * sk[c * HD + d];
          dp += sdo[r * HD + d] * sv[c * HD + d];
        }
        let w = exp(s * p.scale - row_lse[r]);
        ds = w * (dp * drop_factor(bh, r0 + r, c0 + c) - row_delta[r]);
      }
      sds[e] = ds;
    }
    workgroupBarrier();
    for (var e = t; e < R * HD; e += WG) {
      let r = e / HD;
      let d = e % HD;
      var acc = sdq[e];
      for (var c = 0u; c < R; c++) { acc += sds[r * R + c] * sk[c * HD + d]; }
      sdq[e] = acc;
    }
  }
  workgroupBarrier();
  for (var e = t; e < R * HD; e += WG) {
    let i = r0 + e / HD;
    if (i < p.Tq) { dq[g1_row(bh, i) + e % HD] = sdq[e] * p.scale; }
  }
}
