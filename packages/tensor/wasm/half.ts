// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// 16-bit floats <-> float32 in registers. `kind` names the 16-bit format: 1 = float16 (IEEE
// binary16), 2 = bfloat16 (float32's top half); 0 means float32 (no conversion) where a kernel
// takes either. bfloat16 widens by a 16-bit shift. float16 widens by moving its exponent and
// mantissa to float32's positions and multiplying by 2^112, which rebiases the exponent and
// turns float16 subnormals (read as float32 subnormals, which WebAssembly keeps: no flush to
// zero) into the right normal float32; infinities and NaNs (exponent 31) get float32's top exponent.
// The conversions are exact; the CPU reference is packages/tensor/src/dtype.ts.

export const F32: i32 = 0;
export const F16: i32 = 1;
export const BF16: i32 = 2;

// 2^112 as float32 bits.
const REBIAS: u32 = 0x77800000;

// @ts-ignore: decorator
@inline export function widen1(h: u32, kind: i32): f32 {
  if (kind == BF16) return reinterpret<f32>(h << 16);
  const em = h & 0x7fff;
  const shifted = em << 13;
  const v = em >= 0x7c00 ? shifted | 0x7f800000 : reinterpret<u32>(reinterpret<f32>(shifted) * reinterpret<f32>(REBIAS));
  return reinterpret<f32>(v | ((h & 0x8000) << 16));
}

// Four 16-bit values at p (8 bytes) as an f32x4.
// @ts-ignore: decorator
@inline export function widen4(p: usize, kind: i32): v128 {
  return widen4v(v128.load16x4_u(p), kind);
}

// Four 16-bit values, one in the low half of each u32 lane of h (high halves zero), as an f32x4.
// @ts-ignore: decorator
@inline export function widen4v(h: v128, kind: i32): v128 {
  if (kind == BF16) return i32x4.shl(h, 16);
  const em = v128.and(h, i32x4.splat(0x7fff));
  const shifted = i32x4.shl(em, 13);
  const scaled = f32x4.mul(shifted, f32x4.splat(reinterpret<f32>(REBIAS)));
  const special = i32x4.gt_s(em, i32x4.splat(0x7bff));
  const v = v128.bitselect(v128.or(shifted, i32x4.splat(0x7f800000)), scaled, special);
  return v128.or(v, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

// float32 bits -> 16-bit bits, rounded to nearest even (subnormals, overflow to infinity, NaN kept).
// @ts-ignore: decorator
@inline export function narrow1(bits: u32, kind: i32): u32 {
  const abs = bits & 0x7fffffff;
  if (kind == BF16) {
    if (abs > 0x7f800000) return ((bits >> 16) | 0x40) & 0xffff;
    return ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) & 0xffff;
  }
  const sign = (bits >> 16) & 0x8000;
  if (abs > 0x7f800000) return sign | 0x7e00;
  if (abs >= 0x477ff000) return sign | 0x7c00;
  if (abs < 0x38800000) {
    if (abs < 0x33000000) return sign;
    const shift = 126 - (abs >> 23);
    const mant = (abs & 0x7fffff) | 0x800000;
    const q = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half: u32 = 1 << (shift - 1);
    return sign | (q + (rem > half || (rem == half && (q & 1) != 0) ? 1 : 0));
  }
  return sign | (((abs + 0xfff + ((abs >> 13) & 1)) - 0x38000000) >> 13);
}

/** dst[i] = float32(src[i]) for i in [0, n): src 16-bit of `kind`, dst float32. */
export function widenHalf(src: usize, dst: usize, n: i32, kind: i32): void {
  const n4 = n & ~3;
  if (kind == BF16) {
    for (let i = 0; i < n4; i += 4) v128.store(dst + (<usize>i << 2), widen4(src + (<usize>i << 1), BF16));
  } else {
    for (let i = 0; i < n4; i += 4) v128.store(dst + (<usize>i << 2), widen4(src + (<usize>i << 1), F16));
  }
  for (let i = n4; i < n; i++) store<f32>(dst + (<usize>i << 2), widen1(<u32>load<u16>(src + (<usize>i << 1)), kind));
}

/** dst[i] = 16-bit of `kind` (round to nearest even) of float32 src[i], for i in [0, n). */
export function narrowHalf(src: usize, dst: usize, n: i32, kind: i32): void {
  if (kind == BF16) {
    for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>narrow1(load<u32>(src + (<usize>i << 2)), BF16));
  } else {
    for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>narrow1(load<u32>(src + (<usize>i << 2)), F16));
  }
}
