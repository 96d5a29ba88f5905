// Unary elementwise ops and their scalar forms: out[i] = f(x[i], scalar).
// Bindings: 0 params (lib_elementwise), 1 out (contiguous), 2 x (strided).
// One invocation per output element; OP is an override constant, so each op compiles to its
// own pipeline with no branch on the op at run time. OP numbers follow `unaryOps` in
// packages/tensor/src/backend.ts.
//! include "lib_elementwise.wgsl"
//! include "lib_math.wgsl"

override OP: u32;
override WG: u32 = 256u;

@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;

fn apply(v: f32, s: f32) -> f32 {
  switch OP {
    case 0u: { return -v; }                  // neg
    case 1u: { return exp(v); }              // exp
    case 2u: { return log(v); }              // log
    case 3u: { return sqrt(v); }             // sqrt
    case 4u: { return inverseSqrt(v); }      // rsqrt
    case 5u: { return safe_tanh(v); }        // tanh
    case 6u: { return abs(v); }              // abs
    case 7u: { return max(v, 0.0); }         // relu
    case 8u: { return gelu(v); }             // gelu
    case 9u: { return v * v; }               // square
    case 10u: { return sign(v); }            // sign
    case 11u: { return v + s; }              // add_scalar
    case 12u: { return v * s; }              // mul_scalar
    case 13u: { return pow_real(v, s); }     // pow_scalar
    case 14u: { return s - v; }              // rsub_scalar
    case 15u: { return s / v; }              // rdiv_scalar
    case 16u: { return max(v, s); }          // max_scalar
    default: { return min(v, s); }           // min_scalar
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = flat_index(gid);
  if (i >= p.count) { return; }
  out[p.bases[0] + i] = apply(x[strided_offset(i, 1u)], p.scalar);
}
