// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Uniform random numbers with the bits Generator.uniform draws (packages/tensor/src/random.ts):
// element i takes word (i & 1) of Threefry-2x32-20 under the key at counter (i >> 1, stream),
// the same words as a dropout mask (maskWords8), and becomes low + (high - low) * (w >>> 8) 2^-24
// in float64, rounded once to float32: the operations and their order of the JavaScript, so
// every value is the reference's to the bit.

import { maskWords8 } from './dropout';

/**
 * Elements [first, first + n) of out (float32, pointing at element 0); `first` even (a counter
 * covers two elements). `bits` points at 32 bytes of scratch.
 */
export function uniformFill(out: usize, first: i32, n: i32, low: f64, high: f64, k0: u32, k1: u32, stream: u32, bits: usize): void {
  const end = first + n;
  const range = high - low;
  const lows = f64x2.splat(low), ranges = f64x2.splat(range), unit = f64x2.splat(5.9604644775390625e-8);
  let i = first;
  // Eight at a time: the same float64 operations, two lanes at once (IEEE: the same roundings).
  for (; i + 8 <= end; i += 8) {
    maskWords8(k0, k1, i >> 1, stream, bits);
    for (let half = 0; half < 2; half++) {
      const words = i32x4.shr_u(v128.load(bits + (<usize>half << 4)), 8);
      const a = f64x2.add(lows, f64x2.mul(ranges, f64x2.mul(f64x2.convert_low_i32x4_u(words), unit)));
      const b = f64x2.add(lows, f64x2.mul(ranges, f64x2.mul(f64x2.convert_low_i32x4_u(i8x16.shuffle(words, words, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)), unit)));
      const fa = f32x4.demote_f64x2_zero(a), fb = f32x4.demote_f64x2_zero(b);
      v128.store(out + (<usize>(i + (half << 2)) << 2), i8x16.shuffle(fa, fb, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
    }
  }
  if (i < end) {
    maskWords8(k0, k1, i >> 1, stream, bits);
    for (let j = 0; i + j < end; j++) {
      const word = load<u32>(bits + (<usize>j << 2));
      store<f32>(out + (<usize>(i + j) << 2), <f32>(low + range * (<f64>(word >>> 8) * 5.9604644775390625e-8)));
    }
  }
}
