// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm-rng.mjs: the bulk draws of
// TorchGenerator (packages/tensor/src/torch-random.ts), which holds the state and copies it in
// and out around each call. The words are those of the JavaScript there to the bit (the tests
// compare the two paths); this module is only faster: the book's run draws 57 million words a
// step for its dropout masks, about 5 % of the step in JavaScript.
//
// Memory (this module's own, 3 pages, not shared): the 624 state words at STATE, the next index
// at INDEX, a buffer of tempered words at WORDS and of keep bytes at KEEP.

const N = 624;
const M = 397;
const UPPER: u32 = 0x80000000;
const LOWER: u32 = 0x7fffffff;
const MATRIX_A: u32 = 0x9908b0df;

export const STATE: usize = 8192;
export const INDEX: usize = STATE + N * 4;
/** Elements per keep() call: 2 words each in WORDS. */
export const CHUNK: i32 = 16384;
export const WORDS: usize = 16384;
export const KEEP: usize = WORDS + (<usize>CHUNK << 3);

// y = (a & UPPER) | (b & LOWER); a' = c ^ (y >> 1) ^ (-(y & 1) & MATRIX_A), four lanes at once.
@inline
function mix4(a: v128, b: v128, c: v128): v128 {
  const y = v128.or(v128.and(a, i32x4.splat(UPPER)), v128.and(b, i32x4.splat(LOWER)));
  const odd = i32x4.sub(i32x4.splat(0), v128.and(y, i32x4.splat(1)));
  return v128.xor(v128.xor(c, i32x4.shr_u(y, 1)), v128.and(odd, i32x4.splat(MATRIX_A)));
}

@inline
function mix1(a: u32, b: u32, c: u32): u32 {
  const y = (a & UPPER) | (b & LOWER);
  return c ^ (y >>> 1) ^ (<u32>(-(<i32>(y & 1))) & MATRIX_A);
}

@inline
function word(i: i32): usize {
  return STATE + (<usize>i << 2);
}

/**
 * The next 624 words of the recurrence in place. Four at a time: word k reads k + 1 (not yet
 * replaced when a block loads it) and k + M (for k < N - M, not yet replaced; after, k + M - N,
 * already replaced, as the recurrence wants).
 */
function twist(): void {
  let k = 0;
  for (; k + 4 <= N - M; k += 4)
    v128.store(word(k), mix4(v128.load(word(k)), v128.load(word(k + 1)), v128.load(word(k + M))));
  for (; k < N - M; k++) store<u32>(word(k), mix1(load<u32>(word(k)), load<u32>(word(k + 1)), load<u32>(word(k + M))));
  for (; k + 4 <= N - 1; k += 4)
    v128.store(word(k), mix4(v128.load(word(k)), v128.load(word(k + 1)), v128.load(word(k + M - N))));
  for (; k < N - 1; k++)
    store<u32>(word(k), mix1(load<u32>(word(k)), load<u32>(word(k + 1)), load<u32>(word(k + M - N))));
  store<u32>(word(N - 1), mix1(load<u32>(word(N - 1)), load<u32>(word(0)), load<u32>(word(M - 1))));
}

@inline
function temper4(y: v128): v128 {
  y = v128.xor(y, i32x4.shr_u(y, 11));
  y = v128.xor(y, v128.and(i32x4.shl(y, 7), i32x4.splat(0x9d2c5680)));
  y = v128.xor(y, v128.and(i32x4.shl(y, 15), i32x4.splat(0xefc60000)));
  return v128.xor(y, i32x4.shr_u(y, 18));
}

@inline
function temper1(y: u32): u32 {
  y ^= y >>> 11;
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  return y ^ (y >>> 18);
}

/** The next n tempered words (random() n times) into out, twisting when the state is used up. */
export function fill(out: usize, n: i32): void {
  let index = <i32>load<u32>(INDEX);
  let at = 0;
  while (at < n) {
    if (index >= N) {
      twist();
      index = 0;
    }
    const m = min(N - index, n - at);
    let j = 0;
    for (; j + 4 <= m; j += 4)
      v128.store(out + (<usize>(at + j) << 2), temper4(v128.load(word(index + j))));
    for (; j < m; j++) store<u32>(out + (<usize>(at + j) << 2), temper1(load<u32>(word(index + j))));
    index += m;
    at += m;
  }
  store<u32>(INDEX, <u32>index);
}

/**
 * Dropout's keep mask for n <= CHUNK elements into KEEP (1 kept, 0 dropped): element i takes
 * words w0, w1 (2i, 2i + 1) and is kept iff (w0 & 0x1FFFFF) 2^32 + w1 < high 2^32 + low, the
 * 53-bit integer threshold the caller rounds up from (1 - p) 2^53.
 */
export function keep(n: i32, high: u32, low: u32): void {
  fill(WORDS, n << 1);
  const mask21 = i32x4.splat(0x1fffff);
  const hi = i32x4.splat(high);
  const lo = i32x4.splat(low);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const base = WORDS + (<usize>i << 3);
    let k0 = keep4(v128.load(base), v128.load(base + 16), mask21, hi, lo);
    let k1 = keep4(v128.load(base + 32), v128.load(base + 48), mask21, hi, lo);
    let k2 = keep4(v128.load(base + 64), v128.load(base + 80), mask21, hi, lo);
    let k3 = keep4(v128.load(base + 96), v128.load(base + 112), mask21, hi, lo);
    const bytes = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(k0, k1), i16x8.narrow_i32x4_s(k2, k3));
    v128.store(KEEP + <usize>i, v128.and(bytes, i8x16.splat(1)));
  }
  for (; i < n; i++) {
    const w0 = load<u32>(WORDS + (<usize>i << 3)) & 0x1fffff;
    const w1 = load<u32>(WORDS + (<usize>i << 3) + 4);
    store<u8>(KEEP + <usize>i, w0 < high || (w0 == high && w1 < low) ? 1 : 0);
  }
}

// Four elements from eight words (a: w0..w3, b: w4..w7): all ones where kept.
@inline
function keep4(a: v128, b: v128, mask21: v128, hi: v128, lo: v128): v128 {
  const h = v128.and(i8x16.shuffle(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), mask21);
  const l = i8x16.shuffle(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  return v128.or(i32x4.lt_u(h, hi), v128.and(i32x4.eq(h, hi), i32x4.lt_u(l, lo)));
}
