// Fused causal attention, forward, one query row per thread (FlashAttention-2's forward as ONNX
// Runtime Web and the flash-attention WebGPU ports lay it out): thread t of a workgroup owns row
// r0 + t of one (batch, head) and keeps its q, running max m, sum l and output o in registers
// (HDV vec4s each: the head size padded to a multiple of 4 with zeros). The workgroup walks the
// key tiles its rows see, BC keys at a time: K and V tiles are loaded cooperatively (consecutive
// threads, consecutive elements) into workgroup memory as vec4s, then every thread reads the same
// key at the same time (a broadcast: no bank conflicts, no padding needed), scores its row
// against the BC keys, takes the tile max, rescales l and o once (online softmax) and adds the
// weighted values. Every thread does its own row's softmax and dropout: the factor is
// drop_factor's (lib_attention.wgsl), so the mask equals attention.wgsl's weight for weight.
// The host replaces the two consts below per head size and tile (function-scope arrays need
// sizes known at shader creation, which WGSL's override constants are not).
// Bindings: 0 params, 1 q, 2 k, 3 v (lib_attention), 4 out (B, nh, Tq, HD), 5 lse (B, nh, Tq).
//! include "lib_attention.wgsl"
const HDV: u32 = 16u;
const BC: u32 = 32u;

@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

var<workgroup> kt: array<vec4<f32>, BC * HDV>;
var<workgroup> vt: array<vec4<f32>, BC * HDV>;

/** Elements 4x .. 4x + 3 of a row starting at `base` of `HD` (zeros past HD). */
fn k4(base: u32, x: u32) -> vec4<f32> {
  let d = 4u * x;
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { if (d + e < HD) { r[e] = k[base + d + e]; } }
  return r;
}

fn v4(base: u32, x: u32) -> vec4<f32> {
  let d = 4u * x;
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { if (d + e < HD) { r[e] = v[base + d + e]; } }
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = wg.x + wg.y * p.groups_x;
  let bh = block / p.blocks;
  if (bh >= p.BH) { return; }
  let r0 = (block % p.blocks) * WG;
  let t = lid.x;
  let i = r0 + t;
  let live = i < p.Tq;
  var vis = 0u;
  var qv: array<vec4<f32>, HDV>;
  var o: array<vec4<f32>, HDV>;
  if (live) {
    vis = visible(i);
    let qr = q_row(bh, i);
    for (var x = 0u; x < HDV; x++) {
      let d = 4u * x;
      var r = vec4<f32>(0.0);
      for (var e = 0u; e < 4u; e++) { if (d + e < HD) { r[e] = q[qr + d + e]; } }
      qv[x] = r * p.scale;
      o[x] = vec4<f32>(0.0);
    }
  }
  var m = NEG;
  var l = 0.0;
  let key_end = visible(min(r0 + WG, p.Tq) - 1u);
  for (var c0 = 0u; c0 < key_end; c0 += BC) {
    workgroupBarrier();
    for (var e = t; e < BC * HDV; e += WG) {
      let j = c0 + e / HDV;
      var kk = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (j < p.Tk) {
        kk = k4(k_row(bh, j), e % HDV);
        vv = v4(v_row(bh, j), e % HDV);
      }
      kt[e] = kk;
      vt[e] = vv;
    }
    workgroupBarrier();
    var s: array<f32, BC>;
    var mt = m;
    for (var c = 0u; c < BC; c++) {
      var x = NEG;
      if (c0 + c < vis) {
        var acc = vec4<f32>(0.0);
        for (var y = 0u; y < HDV; y++) { acc += qv[y] * kt[c * HDV + y]; }
        x = acc.x + acc.y + acc.z + acc.w;
      }
      s[c] = x;
      mt = max(mt, x);
    }
    if (mt > NEG) {
      let alpha = exp(m - mt);
      l *= alpha;
      for (var y = 0u; y < HDV; y++) { o[y] *= alpha; }
      for (var c = 0u; c < BC; c++) {
        if (s[c] > NEG) {
          let w = exp(s[c] - mt);
          l += w;
          let wd = w * drop_factor(bh, i, c0 + c);
          if (wd != 0.0) {
            for (var y = 0u; y < HDV; y++) { o[y] += wd * vt[c * HDV + y]; }
          }
        }
      }
      m = mt;
    }
  }
  if (live) {
    let base = p.o_base + (bh * p.Tq + i) * HD;
    for (var x = 0u; x < HDV; x++) {
      let r = o[x] / l;
      for (var e = 0u; e < 4u; e++) { if (4u * x + e < HD) { out[base + 4u * x + e] = r[e]; } }
    }
    lse[p.lse_base + bh * p.Tq + i] = m + log(l);
  }
}
