// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Dropout with the shared mask (packages/tensor/src/dropout-mask.ts), as the reference and
// shaders/dropout.wgsl draw it: element i is dropped when word (i & 1) of Threefry-2x32-20
// under the key, at counter (i >> 1, stream), is below `threshold`. Four counters run per i32x4 (eight
// elements); kept elements are scaled in float64 and rounded once, as JavaScript does.

const KEY_PARITY: u32 = 0x1bd11bda;

// @ts-ignore: decorator
@inline function rotl(x: v128, r: i32): v128 {
  return v128.or(i32x4.shl(x, r), i32x4.shr_u(x, 32 - r));
}

/**
 * The eight mask words of elements 2 pair .. 2 pair + 7 (counters pair .. pair + 3), in element
 * order, stored at `bits` (32 bytes).
 */
// @ts-ignore: decorator
@inline export function maskWords8(k0: u32, k1: u32, pair: u32, stream: u32, bits: usize): void {
  const ks0 = i32x4.splat(k0), ks1 = i32x4.splat(k1), ks2 = i32x4.splat(KEY_PARITY ^ k0 ^ k1);
  let x0 = i32x4.add(i32x4.add(i32x4.splat(pair), i32x4(0, 1, 2, 3)), ks0);
  let x1 = i32x4.add(i32x4.splat(stream), ks1);
  for (let group = 1; group <= 5; group++) {
    // Four rounds; rounds 4..7 and 12..15 (groups 2 and 4) take the second rotation set.
    const second = (group & 1) == 0;
    x0 = i32x4.add(x0, x1); x1 = v128.xor(rotl(x1, second ? 17 : 13), x0);
    x0 = i32x4.add(x0, x1); x1 = v128.xor(rotl(x1, second ? 29 : 15), x0);
    x0 = i32x4.add(x0, x1); x1 = v128.xor(rotl(x1, second ? 16 : 26), x0);
    x0 = i32x4.add(x0, x1); x1 = v128.xor(rotl(x1, second ? 24 : 6), x0);
    // Key injection after every fourth round, as the reference: ks[g % 3], ks[(g + 1) % 3] + g.
    const k = group % 3;
    x0 = i32x4.add(x0, k == 0 ? ks0 : k == 1 ? ks1 : ks2);
    x1 = i32x4.add(x1, i32x4.add(k == 0 ? ks1 : k == 1 ? ks2 : ks0, i32x4.splat(group)));
  }
  // Words in element order: (x0, x1) of pair 0, of pair 1, ...
  v128.store(bits, i8x16.shuffle(x0, x1, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23));
  v128.store(bits, i8x16.shuffle(x0, x1, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31), 16);
}

/**
 * Elements [first, first + n) of out = dropout(x); `first` even (a counter covers two elements).
 * x and out point at element 0; `bits` at 32 bytes of scratch. p >= 1 is the caller's (everything
 * is dropped).
 */
export function dropout(x: usize, out: usize, first: i32, n: i32, threshold: u32, scale: f64, k0: u32, k1: u32, stream: u32, bits: usize): void {
  const end = first + n;
  for (let i = first; i < end; i += 8) {
    maskWords8(k0, k1, i >> 1, stream, bits);
    const count = min(8, end - i);
    for (let j = 0; j < count; j++) {
      const at = <usize>(i + j) << 2;
      const keep = load<u32>(bits + (<usize>j << 2)) >= threshold;
      store<f32>(out + at, keep ? <f32>(<f64>load<f32>(x + at) * scale) : 0);
    }
  }
}
