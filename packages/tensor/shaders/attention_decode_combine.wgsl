// The second pass of attention_decode.wgsl (split-K): merges the S partial results (m, l, o) of
// each query row into its output and log-sum-exp: M = max m_s, L = sum l_s exp(m_s - M),
// out = sum o_s exp(m_s - M) / L, lse = M + log L (empty chunks have l = 0 and o = 0, and some
// chunk of every row has a key, so M is finite).
// Bindings: 0 params, 1 partial o (rows, S, HD), 2 partial (m, l) (rows, S, 2), 3 out (rows, HD), 4 lse (rows).
// One workgroup of WG threads per row; each thread computes M and L itself (S is small).
override WG: u32 = 64u;
override HD: u32 = 64u;

struct Params {
  rows: u32, S: u32, po_base: u32, pml_base: u32,
  out_base: u32, lse_base: u32, groups_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> po: array<f32>;
@group(0) @binding(2) var<storage, read> pml: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * p.groups_x;
  if (row >= p.rows) { return; }
  let t = lid.x;
  let ml = p.pml_base + row * p.S * 2u;
  var M = -3.0e38;
  for (var s = 0u; s < p.S; s++) { M = max(M, pml[ml + s * 2u]); }
  var L = 0.0;
  for (var s = 0u; s < p.S; s++) { L += pml[ml + s * 2u + 1u] * exp(pml[ml + s * 2u] - M); }
  let o = p.po_base + row * p.S * HD;
  for (var d = t; d < HD; d += WG) {
    var acc = 0.0;
    for (var s = 0u; s < p.S; s++) { acc += po[o + s * HD + d] * exp(pml[ml + s * 2u] - M); }
    out[p.out_base + row * HD + d] = acc / L;
  }
  if (t == 0u) { lse[p.lse_base + row] = M + log(L); }
}
