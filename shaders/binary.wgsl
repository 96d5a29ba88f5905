// Binary elementwise ops with broadcasting: out[i] = f(a[i], b[i]).
// Bindings: 0 params (lib_elementwise), 1 out (contiguous), 2 a, 3 b (strided; a broadcast
// dimension has stride 0). One invocation per output element; OP numbers follow `binaryOps`
// in packages/tensor/src/backend.ts.
//! include "lib_elementwise.wgsl"
//! include "lib_math.wgsl"

override OP: u32;
override WG: u32 = 256u;

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

fn apply(u: f32, v: f32) -> f32 {
  switch OP {
    case 0u: { return u + v; }                   // add
    case 1u: { return u - v; }                   // sub
    case 2u: { return u * v; }                   // mul
    case 3u: { return u / v; }                   // div
    case 4u: { return pow_real(u, v); }          // pow
    case 5u: { return max(u, v); }               // maximum
    case 6u: { return min(u, v); }               // minimum
    case 7u: { return v * gelu_derivative(u); }  // gelu_backward(x, dy)
    case 8u: { return select(0.0, 1.0, u == v); } // eq
    case 9u: { return select(0.0, 1.0, u < v); }  // lt
    default: { return select(0.0, 1.0, u > v); }  // gt
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= p.count) { return; }
  out[p.bases[0] + i] = apply(a[strided_offset(i, 1u)], b[strided_offset(i, 2u)]);
}
