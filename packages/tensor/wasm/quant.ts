// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Matmul with block-quantized weights (packages/tensor/src/quantized.ts): W is N rows of K,
// in blocks of 32 along K, each block 32 signed bytes (q8_0) or 16 bytes of nibble pairs
// (q4_0: byte j holds element j low and j + 16 high, stored + 8), with one float16 scale a
// block in a separate array. Decoding is memory-bound, so the bytes stay as small as they are
// stored until they are in registers.
//
// Small M (decoding): the activations are quantized once per call to 8-bit integers per block
// of 32 (scale max|a| / 127, held as int16 so the kernel loads them ready to multiply), and
// each block's dot product is integer: weights widened i8 -> i16 in registers, multiplied and
// pairwise added to i32 by i32x4.dot_i16x8_s (exact), then scaled by the weight's and the
// activation's scales and accumulated in float32. Four blocks' sums go through one horizontal
// add, one float conversion and one multiply-add with their four scales (widened from float16
// four at a time). Large M: rows of W are decoded to float32 and the caller runs sgemm on them.

import { F16, widen1, widen4 } from './half';

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

const Q8: i32 = 0;

/**
 * a (M rows of K float32, row stride aRow elements) -> aq: M x nb blocks of 32 int16 (the
 * rounded a / d, zero past K), ad: M x nb float32 scales d = max|a| / 127 of each block.
 */
export function quantizeActivations(M: i32, K: i32, a: usize, aRow: i32, aq: usize, ad: usize): void {
  const nb = (K + 31) >> 5;
  for (let m = 0; m < M; m++) {
    const row = a + (<usize>(m * aRow) << 2);
    for (let b = 0; b < nb; b++) {
      const k0 = b << 5;
      const n = min(32, K - k0);
      let amax: f32 = 0;
      for (let i = 0; i < n; i++) amax = max(amax, abs<f32>(load<f32>(row + (<usize>(k0 + i) << 2))));
      const d: f32 = amax / 127;
      const inv: f32 = amax > 0 ? <f32>127 / amax : 0;
      const blk = aq + (<usize>(m * nb + b) << 6);
      for (let i = 0; i < 32; i++) {
        const v: f32 = i < n ? nearest<f32>(load<f32>(row + (<usize>(k0 + i) << 2)) * inv) : 0;
        store<i16>(blk + (<usize>i << 1), <i16>(<i32>v));
      }
      store<f32>(ad + (<usize>(m * nb + b) << 2), d);
    }
  }
}

// One block's integer dot product, as four i32 lanes to be summed: weights at p, activations (int16) at x.
// @ts-ignore: decorator
@inline function dotBlock(format: i32, p: usize, x: usize): v128 {
  let lo: v128, hi: v128;
  if (format == Q8) {
    lo = v128.load(p);
    hi = v128.load(p, 16);
  } else {
    const v = v128.load(p);
    lo = i8x16.sub(v128.and(v, i8x16.splat(0x0f)), i8x16.splat(8));
    hi = i8x16.sub(i8x16.shr_u(v, 4), i8x16.splat(8));
  }
  let s = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(lo), v128.load(x));
  s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(lo), v128.load(x, 16)));
  s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(hi), v128.load(x, 32)));
  return i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(hi), v128.load(x, 48)));
}

// [sum(s0), sum(s1), sum(s2), sum(s3)]
// @ts-ignore: decorator
@inline function hsum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const a = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 1, 4, 5), v128.shuffle<i32>(s0, s1, 2, 3, 6, 7));
  const b = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 1, 4, 5), v128.shuffle<i32>(s2, s3, 2, 3, 6, 7));
  return i32x4.add(v128.shuffle<i32>(a, b, 0, 2, 4, 6), v128.shuffle<i32>(a, b, 1, 3, 5, 7));
}

// @ts-ignore: decorator
@inline function matvecRows(format: i32, M: i32, N: i32, nb: i32, aq: usize, ad: usize, w: usize, ws: usize, c: usize, ldc: i32, bias: usize): void {
  const bb: usize = format == Q8 ? 32 : 16;
  const nb4 = nb & ~3;
  for (let n = 0; n < N; n++) {
    const wrow = w + <usize>n * <usize>nb * bb;
    const srow = ws + (<usize>(n * nb) << 1);
    const bn: f32 = bias ? load<f32>(bias + (<usize>n << 2)) : 0;
    for (let m = 0; m < M; m++) {
      const xrow = aq + (<usize>(m * nb) << 6);
      const drow = ad + (<usize>(m * nb) << 2);
      let acc = f32x4.splat(0);
      let b = 0;
      for (; b < nb4; b += 4) {
        const p = wrow + <usize>b * bb;
        const x = xrow + (<usize>b << 6);
        const s = hsum4(dotBlock(format, p, x), dotBlock(format, p + bb, x + 64), dotBlock(format, p + 2 * bb, x + 128), dotBlock(format, p + 3 * bb, x + 192));
        const scale = f32x4.mul(widen4(srow + (<usize>b << 1), F16), v128.load(drow + (<usize>b << 2)));
        acc = madd(f32x4.convert_i32x4_s(s), scale, acc);
      }
      let sum: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      for (; b < nb; b++) {
        const s = dotBlock(format, wrow + <usize>b * bb, xrow + (<usize>b << 6));
        const t = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
        sum += <f32>t * widen1(<u32>load<u16>(srow + (<usize>b << 1)), F16) * load<f32>(drow + (<usize>b << 2));
      }
      store<f32>(c + (<usize>(m * ldc + n) << 2), sum + bn);
    }
  }
}

/**
 * c[m, n] (row stride ldc) = sum over blocks of W row n's scale * a row m's scale * the
 * blocks' integer dot product, + bias[n] (bias 0: none), for m < M, n < N. aq / ad from
 * quantizeActivations (nb blocks a row); w: N rows of nb blocks (format 0 q8_0, 1 q4_0);
 * ws: N x nb float16 scales.
 */
export function quantMatvec(format: i32, M: i32, N: i32, nb: i32, aq: usize, ad: usize, w: usize, ws: usize, c: usize, ldc: i32, bias: usize): void {
  if (format == Q8) matvecRows(Q8, M, N, nb, aq, ad, w, ws, c, ldc, bias);
  else matvecRows(1, M, N, nb, aq, ad, w, ws, c, ldc, bias);
}

/** Rows of W (N rows of nb blocks from w / ws) decoded to float32 at out, row stride nb * 32 (zeros past K). */
export function quantDecodeRows(format: i32, N: i32, nb: i32, w: usize, ws: usize, out: usize): void {
  const bb: usize = format == Q8 ? 32 : 16;
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      const i = n * nb + b;
      const d = f32x4.splat(widen1(<u32>load<u16>(ws + (<usize>i << 1)), F16));
      const p = w + <usize>i * bb;
      let lo: v128, hi: v128;
      if (format == Q8) {
        lo = v128.load(p);
        hi = v128.load(p, 16);
      } else {
        const v = v128.load(p);
        lo = i8x16.sub(v128.and(v, i8x16.splat(0x0f)), i8x16.splat(8));
        hi = i8x16.sub(i8x16.shr_u(v, 4), i8x16.splat(8));
      }
      const o = out + (<usize>i << 7);
      const l0 = i16x8.extend_low_i8x16_s(lo), l1 = i16x8.extend_high_i8x16_s(lo);
      const h0 = i16x8.extend_low_i8x16_s(hi), h1 = i16x8.extend_high_i8x16_s(hi);
      v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(l0)), d));
      v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(l0)), d), 16);
      v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(l1)), d), 32);
      v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(l1)), d), 48);
      v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(h0)), d), 64);
      v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(h0)), d), 80);
      v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(h1)), d), 96);
      v128.store(o, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(h1)), d), 112);
    }
  }
}
