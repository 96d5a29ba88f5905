/**
 * PyTorch's CPU random numbers: an MT19937 (Matsumoto and Nishimura, 1998) seeded as
 * `torch.manual_seed` seeds it, and the transforms PyTorch 1.13's CPU kernels apply to its
 * words, so a run that draws in the book's order draws exactly the book's numbers. Written from
 * the published algorithm and the behaviour of Debian's torch 1.13.1 (scripts/golden_torch_rng.py
 * writes the fixture test/fixtures/torch-rng.json that test/tensor/torch-random.test.ts holds
 * this file to). See docs/reproducing-the-book.md.
 *
 * Every draw is sequential: element i of a tensor takes the words after element i - 1's, so
 * unlike the counter-based Generator (random.ts) a mask can only be made on the host, in order.
 * The bulk draws (words, uniform_, normal_, dropout masks) run in a small WebAssembly SIMD module
 * (wasm-rng/mt19937.ts, about 4x the JavaScript loop's speed: the book's run draws 57 million
 * words a step); the JavaScript loops here stay as its reference and its fallback.
 */

import { mt19937Wasm } from './torch-random-wasm.generated.js';

const N = 624;
const M = 397;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;
const MATRIX_A = 0x9908b0df;
const TWO_32 = 4294967296;

/** The WebAssembly MT19937 (wasm-rng/mt19937.ts): its memory and exports. */
interface MtWasm {
  readonly memory: WebAssembly.Memory;
  /** The next n tempered words into out (an address in memory). */
  fill(out: number, n: number): void;
  /** n <= chunk keep bytes into keepAt, against the 53-bit threshold high 2^32 + low. */
  keep(n: number, high: number, low: number): void;
  readonly state: number;
  readonly index: number;
  readonly words: number;
  readonly keepAt: number;
  readonly chunk: number;
}

let mtWasm: MtWasm | null | undefined;

/**
 * The WebAssembly MT19937, compiled on first use (1.8 KB, so synchronously, on any thread), or
 * null where WebAssembly SIMD is missing: the JavaScript loops below draw the same words.
 */
function wasmGenerator(): MtWasm | null {
  if (mtWasm !== undefined) return mtWasm;
  try {
    const bytes = Uint8Array.from(atob(mt19937Wasm), (c) => c.charCodeAt(0));
    const e = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Record<string, unknown>;
    const value = (name: string) => Number((e[name] as WebAssembly.Global).value);
    mtWasm = {
      memory: e.memory as WebAssembly.Memory,
      fill: e.fill as MtWasm['fill'],
      keep: e.keep as MtWasm['keep'],
      state: value('STATE'),
      index: value('INDEX'),
      words: value('WORDS'),
      keepAt: value('KEEP'),
      chunk: value('CHUNK'),
    };
  } catch {
    mtWasm = null;
  }
  return mtWasm;
}

/** A TorchGenerator's whole state: the seed it was given, its 624 words and the next index. */
export interface TorchGeneratorState {
  readonly seed: number;
  /** The 624 state words (uint32). */
  readonly words: readonly number[];
  /** The next word to temper, 0..624 (624: a twist is due). */
  readonly index: number;
}

/**
 * A seeded MT19937 drawing what PyTorch's CPU default generator draws after
 * `torch.manual_seed(seed)`. `seed` is a non-negative safe integer; only its low 32 bits seed
 * the state (as PyTorch's generator does). Throws RangeError for any other seed.
 */
export class TorchGenerator {
  /**
   * Whether bulk draws (fill, uniform_, normal_, dropoutKeep) run in WebAssembly where it loads
   * (default) or in JavaScript: the same words either way; false is for tests and measurements.
   */
  static useWasm = true;
  private readonly mt = new Uint32Array(N);
  private index = N;
  private seedValue = 0;

  constructor(seed: number) {
    this.manualSeed(seed);
  }

  /** The seed last given (manualSeed or the constructor). */
  get seed(): number {
    return this.seedValue;
  }

  /** Reseeds (torch.Generator.manual_seed): init_genrand with the seed's low 32 bits. */
  manualSeed(seed: number): void {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`TorchGenerator: seed must be a non-negative safe integer, got ${seed}`);
    this.seedValue = seed;
    const mt = this.mt;
    mt[0] = seed % TWO_32;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = Math.imul(1812433253, prev ^ (prev >>> 30)) + i;
    }
    this.index = N;
  }

  /** A copy of the state, for a checkpoint (JSON-safe). */
  get state(): TorchGeneratorState {
    return { seed: this.seedValue, words: Array.from(this.mt), index: this.index };
  }

  /** Restores a saved state; throws RangeError when it is not one. */
  set state(s: TorchGeneratorState) {
    if (
      !Array.isArray(s.words) ||
      s.words.length !== N ||
      !s.words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_32) ||
      !(Number.isInteger(s.index) && s.index >= 0 && s.index <= N) ||
      !(Number.isSafeInteger(s.seed) && s.seed >= 0)
    )
      throw new RangeError('TorchGenerator: not a saved generator state (624 uint32 words, an index 0..624)');
    this.mt.set(s.words);
    this.index = s.index;
    this.seedValue = s.seed;
  }

  /** The next 624 words of the recurrence, in place. */
  private twist(): void {
    const mt = this.mt;
    // Three runs so no index wraps inside a loop (this runs once per 624 words).
    let k = 0;
    for (; k < N - M; k++) {
      const y = (mt[k]! & UPPER) | (mt[k + 1]! & LOWER);
      mt[k] = mt[k + M]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; k < N - 1; k++) {
      const y = (mt[k]! & UPPER) | (mt[k + 1]! & LOWER);
      mt[k] = mt[k + M - N]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    const y = (mt[N - 1]! & UPPER) | (mt[0]! & LOWER);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.index = 0;
  }

  /** One 32-bit word (PyTorch's random()), as a number in [0, 2^32). */
  random(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * `out.length` words into `out`, the same as that many random() calls; the bulk path every
   * transform uses (one bounds check per 624 words).
   */
  fill(out: Uint32Array): void {
    const w = TorchGenerator.useWasm && out.length >= 64 ? wasmGenerator() : null;
    if (w) {
      this.inWasm(w, () => {
        const chunk = 2 * w.chunk;
        for (let at = 0; at < out.length; at += chunk) {
          const n = Math.min(chunk, out.length - at);
          w.fill(w.words, n);
          out.set(new Uint32Array(w.memory.buffer, w.words, n), at);
        }
      });
      return;
    }
    const mt = this.mt;
    let at = 0;
    const n = out.length;
    while (at < n) {
      if (this.index >= N) this.twist();
      const end = Math.min(N, this.index + (n - at));
      for (let i = this.index; i < end; i++) {
        let y = mt[i]!;
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        out[at++] = y >>> 0;
      }
      this.index = end;
    }
  }

  /** Runs `draw` on the WebAssembly generator holding this generator's state, then takes the state back. */
  private inWasm(w: MtWasm, draw: () => void): void {
    const state = new Uint32Array(w.memory.buffer, w.state, N);
    const index = new Uint32Array(w.memory.buffer, w.index, 1);
    state.set(this.mt);
    index[0] = this.index;
    draw();
    this.mt.set(state);
    this.index = index[0]!;
  }

  /** n words (a fresh array). */
  words(n: number): Uint32Array {
    const out = new Uint32Array(n);
    this.fill(out);
    return out;
  }

  /**
   * `torch.empty((), dtype=torch.int64).random_()`: two words, the first the high half, top bit
   * cleared. Returned as [high 31 bits, low 32 bits] and as a bigint.
   */
  randomInt64(): bigint {
    const hi = this.random() & 0x7fffffff;
    const lo = this.random();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /**
   * `x.uniform_(low, high)` on a float32 (or float64 holding float32 values) tensor: one word
   * per element in order, (w & 0xFFFFFF) 2^-24 (high - low) + low rounded once to float32
   * (the fused multiply-add of Debian's x86 build: exact in float64 for the bounds the book
   * uses, so one Math.fround is that single rounding).
   */
  uniform_(out: Float32Array | Float64Array, low = 0, high = 1): void {
    // PyTorch casts the bounds to float32 first; the product below is exact in float64 and so
    // is the sum (at most 48 significant bits), so the one fround is the fused result.
    const lo = Math.fround(low);
    const range = Math.fround(Math.fround(high) - lo);
    const block = new Uint32Array(Math.min(out.length, 1 << 16));
    for (let start = 0; start < out.length; start += block.length) {
      const n = Math.min(block.length, out.length - start);
      const words = n === block.length ? block : block.subarray(0, n);
      this.fill(words);
      for (let i = 0; i < n; i++) out[start + i] = Math.fround((words[i]! & 0xffffff) * 2 ** -24 * range + lo);
    }
  }

  /**
   * `x.normal_(mean, std)` on a float32 tensor of 16 or more elements (PyTorch's vectorised
   * CPU path): n uniforms in [0, 1), then Box-Muller on blocks of 16 (u1 = 1 - x[j],
   * u2 = x[j + 8], j < 8); if n % 16 != 0, 16 fresh uniforms overwrite the last 16 elements
   * and that block is transformed again. The arithmetic is the scalar build's (float32 logf,
   * cosf, sinf, each step rounded to float32); Debian's AVX2 build uses float32 polynomials
   * instead and differs in the last bit or two of some values (about 2e-6 at most for std 1;
   * see docs/reproducing-the-book.md). Throws RangeError below 16 elements (the book never
   * draws those; PyTorch takes another, double-precision path there).
   */
  normal_(out: Float32Array, mean = 0, std = 1): void {
    const n = out.length;
    if (n < 16) throw new RangeError(`TorchGenerator.normal_: needs 16 or more elements, got ${n}`);
    this.uniform_(out, 0, 1);
    for (let i = 0; i + 16 <= n; i += 16) boxMuller16(out, i, mean, std);
    if (n % 16 !== 0) {
      const tail = out.subarray(n - 16);
      this.uniform_(tail, 0, 1);
      boxMuller16(out, n - 16, mean, std);
    }
  }

  /**
   * `torch.randperm(n, generator=g)` for the sizes a data loader takes (n < 2^24): the identity,
   * then for i in 0..n-2 swap element i with element i + random() % (n - i).
   */
  randperm(n: number): number[] {
    if (!(Number.isInteger(n) && n >= 0 && n < 2 ** 24))
      throw new RangeError(`TorchGenerator.randperm: n must be an integer in [0, 2^24), got ${n}`);
    const r = [...Array(n).keys()];
    for (let i = 0; i < n - 1; i++) {
      const z = this.random() % (n - i);
      const t = r[i]!;
      r[i] = r[i + z]!;
      r[i + z] = t;
    }
    return r;
  }

  /**
   * The keep mask of `F.dropout(x, p, training=True)` on a CPU tensor of n elements (PyTorch's
   * `bernoulli_(1 - p)`): per element two words w0, w1, kept (1) iff the 53-bit double
   * ((w0 & 0x1FFFFF) 2^32 + w1) 2^-53 is below 1 - p. Every element draws, but for p = 0 and
   * p = 1, where PyTorch returns the input (or zeros) and draws nothing. Throws RangeError for p
   * outside [0, 1].
   */
  dropoutKeep(n: number, p: number): Uint8Array {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`TorchGenerator.dropoutKeep: p must be in [0, 1], got ${p}`);
    const keep = new Uint8Array(n);
    if (p === 0 || p === 1) return keep.fill(p === 0 ? 1 : 0);
    const threshold = (1 - p) * 2 ** 53; // exact: a power-of-two scaling of the double 1 - p
    const w = TorchGenerator.useWasm && n >= 64 ? wasmGenerator() : null;
    if (w) {
      // An integer x is below the threshold iff it is below its ceiling (below 2^53: exact).
      const t = Math.ceil(threshold);
      const high = Math.floor(t / TWO_32);
      const low = t - high * TWO_32;
      this.inWasm(w, () => {
        for (let at = 0; at < n; at += w.chunk) {
          const count = Math.min(w.chunk, n - at);
          w.keep(count, high, low);
          keep.set(new Uint8Array(w.memory.buffer, w.keepAt, count), at);
        }
      });
      return keep;
    }
    // The words tempered in place (no buffer): this is most of a torch-stream step's host time.
    const mt = this.mt;
    let at = this.index;
    for (let i = 0; i < n; i++) {
      if (at >= N) {
        this.twist();
        at = 0;
      }
      let y = mt[at++]!;
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      const high = (y ^ (y >>> 18)) & 0x1fffff;
      if (at >= N) {
        this.twist();
        at = 0;
      }
      let z = mt[at++]!;
      z ^= z >>> 11;
      z ^= (z << 7) & 0x9d2c5680;
      z ^= (z << 15) & 0xefc60000;
      z ^= z >>> 18;
      keep[i] = high * TWO_32 + (z >>> 0) < threshold ? 1 : 0;
    }
    this.index = at;
    return keep;
  }

  /**
   * One draw of `torch.multinomial(probs, 1)` on a float32 row of probabilities (PyTorch 1.13's
   * one-sample path): q = exponential_(1) over the row (per element a 53-bit double u from two
   * words, -log(1 - u), rounded to float32), then the first index of the largest
   * float32(probs[i] / q[i]). `probs` holds float32 values.
   */
  multinomial1(probs: Float32Array | Float64Array): number {
    const n = probs.length;
    const words = this.words(2 * n);
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = ((words[2 * i]! & 0x1fffff) * TWO_32 + words[2 * i + 1]!) * 2 ** -53;
      const q = Math.fround(-Math.log1p(-u));
      const v = Math.fround(probs[i]! / q);
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    return best;
  }
}

const TWO_PI = 2 * Math.PI;

/** Box-Muller over data[at .. at + 16) in place, float32 at every step (the scalar build). */
function boxMuller16(data: Float32Array, at: number, mean: number, std: number): void {
  const f = Math.fround;
  for (let j = at; j < at + 8; j++) {
    const u1 = f(1 - data[j]!);
    const u2 = data[j + 8]!;
    const radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
    const theta = f(TWO_PI * u2);
    data[j] = f(f(f(radius * f(Math.cos(theta))) * std) + mean);
    data[j + 8] = f(f(f(radius * f(Math.sin(theta))) * std) + mean);
  }
}
