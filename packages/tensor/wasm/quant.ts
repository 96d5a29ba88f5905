// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Matmul with block-quantized weights (packages/tensor/src/quantized.ts): W is N rows of K,
// in blocks of 32 along K, each block 32 signed bytes (q8_0) or 16 bytes of nibble pairs
// (q4_0: byte j holds element j low and j + 16 high, stored + 8), with one float16 scale a
// block in a separate array. Decoding is memory-bound, so the bytes stay as small as they are
// stored until they are in registers.
//
// Small M (decoding): the activations are quantized once per call to 8-bit integers per block
// of 32 (scale max|a| / 127), and each block's dot product is integer, then scaled by the
// weight's and the activation's scales and accumulated in float32. Two builds of the block
// product, chosen per call by the caller (`rdot`), give the same integers:
// - plain SIMD: weights widened i8 -> i16 in registers, multiplied and pairwise added to i32 by
//   i32x4.dot_i16x8_s (exact); the activations are stored as int16, ready to multiply.
// - relaxed SIMD: i32x4.relaxed_dot_i8x16_i7x16_add_s (x86: vpdpbusd, or pmaddubsw + pmaddwd;
//   16 products in one to three instructions), whose second operand must be in [0, 127] for a
//   result every implementation agrees on: q8_0 multiplies |a| (7 bits) by the weights with a's
//   sign moved onto them (w xor m - m, m = a < 0 ? -1 : 0); q4_0 multiplies the signed a by the
//   stored nibbles (0..15) and subtracts 8 * sum(a) per block. The pair sums stay below int16's
//   limit (127 * 127 * 2 = 32258; 15 * 127 * 2), so nothing saturates. The caller uses it only
//   where a probe at load found the instruction right (Node 20's V8 11.3 drops the accumulator
//   and doubles the product; cpu-fast/wasm-runtime.ts).
// Rows of W are taken four at a time: each activation block is loaded once for the four, their
// block sums go through one horizontal add into the four rows' lanes, and one multiply-add with
// the four weight scales (widened from float16 together) times the activation's scale.
// Large M: rows of W are decoded to float32 and the caller runs sgemm on them.

import { F16, widen1, widen4, widen4v } from './half';

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

const Q8: i32 = 0;
/** Bytes of one quantized activation block (the caller allocates M x nb of them). */
const ABLOCK: usize = 128;

/** quantizeActivations of one whole block of 32 at x into the block at blk and its scale at d. */
// @ts-ignore: decorator
@inline function quantizeBlock(x: usize, blk: usize, d: usize, rdot: i32): void {
  const v0 = v128.load(x), v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
  const v4 = v128.load(x, 64), v5 = v128.load(x, 80), v6 = v128.load(x, 96), v7 = v128.load(x, 112);
  const m4 = f32x4.max(
    f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3))),
    f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))),
  );
  const amax = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
  const inv = f32x4.splat(amax > 0 ? <f32>127 / amax : 0);
  const q0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v0, inv)));
  const q1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v1, inv)));
  const q2 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v2, inv)));
  const q3 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v3, inv)));
  const q4 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v4, inv)));
  const q5 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v5, inv)));
  const q6 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v6, inv)));
  const q7 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v7, inv)));
  store<f32>(d, amax / 127);
  // |q| <= 127: the narrowing never saturates.
  const h0 = i16x8.narrow_i32x4_s(q0, q1), h1 = i16x8.narrow_i32x4_s(q2, q3);
  const h2 = i16x8.narrow_i32x4_s(q4, q5), h3 = i16x8.narrow_i32x4_s(q6, q7);
  if (!rdot) {
    v128.store(blk, h0);
    v128.store(blk, h1, 16);
    v128.store(blk, h2, 32);
    v128.store(blk, h3, 48);
    return;
  }
  const b0 = i8x16.narrow_i16x8_s(h0, h1), b1 = i8x16.narrow_i16x8_s(h2, h3);
  v128.store(blk, i8x16.abs(b0));
  v128.store(blk, i8x16.abs(b1), 16);
  v128.store(blk, i8x16.lt_s(b0, i8x16.splat(0)), 32);
  v128.store(blk, i8x16.lt_s(b1, i8x16.splat(0)), 48);
  v128.store(blk, b0, 64);
  v128.store(blk, b1, 80);
  const s4 = i32x4.add(i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3)), i32x4.add(i32x4.add(q4, q5), i32x4.add(q6, q7)));
  const sum = i32x4.extract_lane(s4, 0) + i32x4.extract_lane(s4, 1) + i32x4.extract_lane(s4, 2) + i32x4.extract_lane(s4, 3);
  store<i32>(blk + 96, sum << 3);
}

/**
 * a (M rows of K float32, row stride aRow elements) -> aq: M x nb blocks of ABLOCK bytes, ad:
 * M x nb float32 scales d = max|a| / 127 of each block, q = round(a / d) (zero past K). Layout
 * of a block: rdot 0: q as 32 int16; rdot 1: |q| (32 u8), the sign masks (32 bytes, 0 or -1),
 * q (32 i8), then 8 * sum(q) (i32).
 */
export function quantizeActivations(M: i32, K: i32, a: usize, aRow: i32, aq: usize, ad: usize, rdot: i32): void {
  const nb = (K + 31) >> 5;
  for (let m = 0; m < M; m++) {
    const row = a + (<usize>(m * aRow) << 2);
    // Whole blocks four lanes at a time (the same operations lane by lane as the loop below:
    // max|a|, a * (127 / max) rounded to nearest even, saturated to i32 (NaN -> 0)); the last,
    // partial block element by element.
    const full = K >> 5;
    for (let b = 0; b < full; b++) quantizeBlock(row + (<usize>b << 7), aq + <usize>(m * nb + b) * ABLOCK, ad + (<usize>(m * nb + b) << 2), rdot);
    for (let b = full; b < nb; b++) {
      const k0 = b << 5;
      const n = min(32, K - k0);
      let amax: f32 = 0;
      for (let i = 0; i < n; i++) amax = max(amax, abs<f32>(load<f32>(row + (<usize>(k0 + i) << 2))));
      const d: f32 = amax / 127;
      const inv: f32 = amax > 0 ? <f32>127 / amax : 0;
      const blk = aq + <usize>(m * nb + b) * ABLOCK;
      let sum: i32 = 0;
      for (let i = 0; i < 32; i++) {
        const q = <i32>(i < n ? nearest<f32>(load<f32>(row + (<usize>(k0 + i) << 2)) * inv) : <f32>0);
        if (rdot) {
          store<u8>(blk + <usize>i, <u8>(q < 0 ? -q : q));
          store<u8>(blk + 32 + <usize>i, <u8>(q < 0 ? 0xff : 0));
          store<i8>(blk + 64 + <usize>i, <i8>q);
          sum += q;
        } else {
          store<i16>(blk + (<usize>i << 1), <i16>q);
        }
      }
      if (rdot) store<i32>(blk + 96, sum << 3);
      store<f32>(ad + (<usize>(m * nb + b) << 2), d);
    }
  }
}

// One block's integer dot product, as four i32 lanes to be summed: weights at p, activation block at x.
// @ts-ignore: decorator
@inline function dotBlock(format: i32, rdot: bool, p: usize, x: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && rdot && format != Q8) return i32x4.sub(dotRaw(format, rdot, p, x), i32x4.splat(load<i32>(x, 96) >> 2)); // 8 * sum(a) over the four lanes
  return dotRaw(format, rdot, p, x);
}

// dotBlock without relaxed q4_0's correction (the block's sum is 8 * sum(a) too large).
// @ts-ignore: decorator
@inline function dotRaw(format: i32, rdot: bool, p: usize, x: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && rdot) {
    const zero = i32x4.splat(0);
    if (format == Q8) {
      const m0 = v128.load(x, 32), m1 = v128.load(x, 48);
      const w0 = i8x16.sub(v128.xor(v128.load(p), m0), m0);
      const w1 = i8x16.sub(v128.xor(v128.load(p, 16), m1), m1);
      return i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, v128.load(x, 16), i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, v128.load(x), zero));
    }
    const v = v128.load(p);
    const lo = v128.and(v, i8x16.splat(0x0f));
    const hi = v128.and(i16x8.shr_u(v, 4), i8x16.splat(0x0f)); // = i8x16.shr_u(v, 4), which x86 lacks (V8 emulates it)
    return i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(x, 80), hi, i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(x, 64), lo, zero));
  }
  let lo: v128, hi: v128;
  if (format == Q8) {
    lo = v128.load(p);
    hi = v128.load(p, 16);
  } else {
    const v = v128.load(p);
    lo = i8x16.sub(v128.and(v, i8x16.splat(0x0f)), i8x16.splat(8));
    hi = i8x16.sub(v128.and(i16x8.shr_u(v, 4), i8x16.splat(0x0f)), i8x16.splat(8));
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

// Rows [n0, n0 + 4) of W against the M activation rows: c[m, n0..n0+3] (one vector store).
// @ts-ignore: decorator
@inline function rows4(format: i32, rdot: bool, M: i32, nb: i32, aq: usize, ad: usize, w: usize, ws: usize, c: usize, ldc: i32, bias: usize, n0: i32): void {
  const bb: usize = format == Q8 ? 32 : 16;
  const rowBytes = <usize>nb * bb;
  const w0 = w + <usize>n0 * rowBytes;
  const s0 = ws + (<usize>(n0 * nb) << 1);
  const sRow = <usize>nb << 1;
  const bn = bias ? v128.load(bias + (<usize>n0 << 2)) : f32x4.splat(0);
  for (let m = 0; m < M; m++) {
    const xrow = aq + <usize>(m * nb) * ABLOCK;
    const drow = ad + (<usize>(m * nb) << 2);
    let acc = bn;
    for (let b = 0; b < nb; b++) {
      const p = w0 + <usize>b * bb;
      const x = xrow + <usize>b * ABLOCK;
      let s = hsum4(dotRaw(format, rdot, p, x), dotRaw(format, rdot, p + rowBytes, x), dotRaw(format, rdot, p + 2 * rowBytes, x), dotRaw(format, rdot, p + 3 * rowBytes, x));
      if (ASC_FEATURE_RELAXED_SIMD && rdot && format != Q8) s = i32x4.sub(s, v128.load32_splat(x, 96)); // the four rows' 8 * sum(a)
      const sp = s0 + (<usize>b << 1);
      let h = v128.load16_lane(sp, i32x4.splat(0), 0);
      h = v128.load16_lane(sp + sRow, h, 2);
      h = v128.load16_lane(sp + 2 * sRow, h, 4);
      h = v128.load16_lane(sp + 3 * sRow, h, 6);
      const scale = f32x4.mul(widen4v(h, F16), v128.load32_splat(drow + (<usize>b << 2)));
      acc = madd(f32x4.convert_i32x4_s(s), scale, acc);
    }
    v128.store(c + (<usize>(m * ldc + n0) << 2), acc);
  }
}

// One row n of W against the M activation rows, four blocks at a time (the rows past the last four).
// @ts-ignore: decorator
@inline function row1(format: i32, rdot: bool, M: i32, nb: i32, aq: usize, ad: usize, w: usize, ws: usize, c: usize, ldc: i32, bias: usize, n: i32): void {
  const bb: usize = format == Q8 ? 32 : 16;
  const nb4 = nb & ~3;
  const wrow = w + <usize>n * <usize>nb * bb;
  const srow = ws + (<usize>(n * nb) << 1);
  const bn: f32 = bias ? load<f32>(bias + (<usize>n << 2)) : 0;
  for (let m = 0; m < M; m++) {
    const xrow = aq + <usize>(m * nb) * ABLOCK;
    const drow = ad + (<usize>(m * nb) << 2);
    let acc = f32x4.splat(0);
    let b = 0;
    for (; b < nb4; b += 4) {
      const p = wrow + <usize>b * bb;
      const x = xrow + <usize>b * ABLOCK;
      const s = hsum4(dotBlock(format, rdot, p, x), dotBlock(format, rdot, p + bb, x + ABLOCK), dotBlock(format, rdot, p + 2 * bb, x + 2 * ABLOCK), dotBlock(format, rdot, p + 3 * bb, x + 3 * ABLOCK));
      const scale = f32x4.mul(widen4(srow + (<usize>b << 1), F16), v128.load(drow + (<usize>b << 2)));
      acc = madd(f32x4.convert_i32x4_s(s), scale, acc);
    }
    let sum: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    for (; b < nb; b++) {
      const s = dotBlock(format, rdot, wrow + <usize>b * bb, xrow + <usize>b * ABLOCK);
      const t = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
      sum += <f32>t * widen1(<u32>load<u16>(srow + (<usize>b << 1)), F16) * load<f32>(drow + (<usize>b << 2));
    }
    store<f32>(c + (<usize>(m * ldc + n) << 2), sum + bn);
  }
}

// @ts-ignore: decorator
@inline function matvecRows(format: i32, rdot: bool, grouped: bool, M: i32, N: i32, nb: i32, aq: usize, ad: usize, w: usize, ws: usize, c: usize, ldc: i32, bias: usize): void {
  let n = 0;
  if (grouped) for (; n + 4 <= N; n += 4) rows4(format, rdot, M, nb, aq, ad, w, ws, c, ldc, bias, n);
  for (; n < N; n++) row1(format, rdot, M, nb, aq, ad, w, ws, c, ldc, bias, n);
}

/**
 * c[m, n] (row stride ldc) = sum over blocks of W row n's scale * a row m's scale * the
 * blocks' integer dot product, + bias[n] (bias 0: none), for m < M, n < N. aq / ad from
 * quantizeActivations with the same rdot (nb blocks a row); w: N rows of nb blocks (format 0
 * q8_0, 1 q4_0); ws: N x nb float16 scales. rdot 1 only in the relaxed-SIMD build, and only
 * where the runtime's relaxed dot product is right. grouped 0 takes every row alone (tests).
 */
export function quantMatvec(format: i32, M: i32, N: i32, nb: i32, aq: usize, ad: usize, w: usize, ws: usize, c: usize, ldc: i32, bias: usize, rdot: i32, grouped: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD && rdot) {
    if (format == Q8) {
      if (grouped) matvecRows(Q8, true, true, M, N, nb, aq, ad, w, ws, c, ldc, bias);
      else matvecRows(Q8, true, false, M, N, nb, aq, ad, w, ws, c, ldc, bias);
    } else if (grouped) matvecRows(1, true, true, M, N, nb, aq, ad, w, ws, c, ldc, bias);
    else matvecRows(1, true, false, M, N, nb, aq, ad, w, ws, c, ldc, bias);
    return;
  }
  if (format == Q8) {
    if (grouped) matvecRows(Q8, false, true, M, N, nb, aq, ad, w, ws, c, ldc, bias);
    else matvecRows(Q8, false, false, M, N, nb, aq, ad, w, ws, c, ldc, bias);
  } else if (grouped) matvecRows(1, false, true, M, N, nb, aq, ad, w, ws, c, ldc, bias);
  else matvecRows(1, false, false, M, N, nb, aq, ad, w, ws, c, ldc, bias);
}

/**
 * quantMatvec's rows shared by every thread that calls it with the same arguments: each claims
 * the next `chunk` rows (a multiple of 4) with an atomic add on the i32 at `counter` (0 before
 * the first call) until all N are taken, so a thread that starts late or runs slower takes fewer
 * rows and none waits on another's fixed share. Each row's output is computed as quantMatvec
 * computes it (rows grouped by four from row 0): the same bits whichever thread takes it.
 */
export function quantMatvecShared(counter: usize, chunk: i32, format: i32, M: i32, N: i32, nb: i32, aq: usize, ad: usize, w: usize, ws: usize, c: usize, ldc: i32, bias: usize, rdot: i32): void {
  const bb: usize = format == Q8 ? 32 : 16;
  for (let n0 = atomic.add<i32>(counter, chunk); n0 < N; n0 = atomic.add<i32>(counter, chunk)) {
    const count = min(chunk, N - n0);
    quantMatvec(format, M, count, nb, aq, ad, w + <usize>n0 * <usize>nb * bb, ws + (<usize>n0 * <usize>nb << 1), c + (<usize>n0 << 2), ldc, bias ? bias + (<usize>n0 << 2) : 0, rdot, 1);
  }
}

/**
 * 1 when i32x4.relaxed_dot_i8x16_i7x16_add_s gives the exact products plus the accumulator
 * here, else 0 (always 0 in the plain build). Call with (-127, 127): the operands' last lanes
 * come from the arguments so the optimizer cannot fold the instruction at build time.
 */
export function relaxedDotProbe(lastA: i32, lastB: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  const a = i8x16.replace_lane(i8x16(-100, 50, -3, 7, 127, -127, 1, 0, 5, 5, 5, 5, -1, -2, -3, 0), 15, <i8>lastA);
  const b = i8x16.replace_lane(i8x16(100, 20, 3, 9, 127, 127, 0, 0, 1, 2, 3, 4, 10, 20, 30, 0), 15, <i8>lastB);
  const r = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, i32x4(1000, -7, 0, 123456));
  const want = i32x4(-8946 + 1000, -7, 50, -140 - 127 * 127 + 123456);
  return i32x4.all_true(i32x4.eq(r, want)) ? 1 : 0;
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
        hi = i8x16.sub(v128.and(i16x8.shr_u(v, 4), i8x16.splat(0x0f)), i8x16.splat(8));
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
