/**
 * Counter-based random numbers: Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", 2011; the generator JAX uses). Only 32-bit add, rotate and xor,
 * so the WGSL copy in shaders/dropout.wgsl gives the same bits as this one, and every element's
 * numbers depend only on (key, counter): any backend, any order, the same values.
 *
 * A call that makes n numbers takes one fresh stream from its Generator (counter word 1) and
 * uses counter word 0 = pair index, two 32-bit outputs per counter.
 */
import { ValueError } from './errors.js';

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];
const KEY_PARITY = 0x1bd11bda;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** Threefry-2x32-20 of counter (c0, c1) under key (k0, k1); writes two uint32 into `out`. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number, out: Uint32Array): void {
  // The rounds in groups of four, each group followed by its key injection (no array per call:
  // this runs once per two random numbers).
  const ks0 = k0 >>> 0,
    ks1 = k1 >>> 0,
    ks2 = (KEY_PARITY ^ k0 ^ k1) >>> 0;
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  for (let group = 1; group <= 5; group++) {
    const r = (group & 1) === 1 ? 0 : 4; // groups 2 and 4 take the second rotation set
    x0 = (x0 + x1) >>> 0;
    x1 = rotl(x1, ROTATIONS[r]!) ^ x0;
    x0 = (x0 + x1) >>> 0;
    x1 = rotl(x1, ROTATIONS[r + 1]!) ^ x0;
    x0 = (x0 + x1) >>> 0;
    x1 = rotl(x1, ROTATIONS[r + 2]!) ^ x0;
    x0 = (x0 + x1) >>> 0;
    x1 = rotl(x1, ROTATIONS[r + 3]!) ^ x0;
    const k = group % 3;
    x0 = (x0 + (k === 0 ? ks0 : k === 1 ? ks1 : ks2)) >>> 0;
    x1 = ((x1 >>> 0) + (k === 0 ? ks1 : k === 1 ? ks2 : ks0) + group) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
}

/** Uniform in [0, 1) from the top 24 bits: exact in float32, so every backend agrees. */
export function uint32ToUnit(x: number): number {
  return (x >>> 8) * 2 ** -24;
}

/**
 * `out` filled with uniforms in [low, high) from one stream, element i from word i & 1 of the
 * counter (i >> 1, stream): low + (high - low) * uint32ToUnit(word), in float64 (a float32
 * `out` rounds it once). What Generator.uniform returns, and the CPU reference of the backends'
 * `uniform` kernels (the fast CPU's WebAssembly gives the same bits).
 */
export function fillUniform(
  out: Float32Array | Float64Array,
  key: readonly [number, number],
  stream: number,
  low: number,
  high: number,
): void {
  const pair = new Uint32Array(2);
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    threefry2x32(key[0], key[1], i / 2, stream, pair);
    out[i] = low + (high - low) * uint32ToUnit(pair[0]!);
    if (i + 1 < n) out[i + 1] = low + (high - low) * uint32ToUnit(pair[1]!);
  }
}

/** A seeded source of streams. Each random op takes the next stream id. */
export class Generator {
  readonly key: readonly [number, number];
  private nextStream = 0;

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`Generator: seed must be a non-negative safe integer, got ${seed}`);
    this.key = [(seed % 2 ** 32) >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
  }

  /** The stream id the next random op uses (also what a checkpoint saves to resume). */
  get streamPosition(): number {
    return this.nextStream;
  }

  set streamPosition(position: number) {
    if (!Number.isInteger(position) || position < 0 || position >= 2 ** 32)
      throw new RangeError(`Generator: stream position ${position} is out of range`);
    this.nextStream = position;
  }

  takeStream(): number {
    if (this.nextStream >= 2 ** 32) throw new RangeError('Generator: all 2^32 streams are used; reseed');
    return this.nextStream++;
  }

  /** n raw uint32 values of one fresh stream. */
  bits(n: number): Uint32Array {
    const stream = this.takeStream();
    const out = new Uint32Array(n);
    const pair = new Uint32Array(2);
    for (let i = 0; i < n; i += 2) {
      threefry2x32(this.key[0], this.key[1], i / 2, stream, pair);
      out[i] = pair[0]!;
      if (i + 1 < n) out[i + 1] = pair[1]!;
    }
    return out;
  }

  /** n uniforms in [low, high). */
  uniform(n: number, low = 0, high = 1): Float64Array {
    const out = new Float64Array(n);
    fillUniform(out, this.key, this.takeStream(), low, high);
    return out;
  }

  /** n standard normals by Box-Muller: counter pair (u1, u2) gives two values. */
  normal(n: number, mean = 0, std = 1): Float64Array {
    const bits = this.bits(n + (n % 2));
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 2) {
      const u1 = ((bits[i]! >>> 8) + 1) * 2 ** -24; // (0, 1]: log(u1) is finite
      const u2 = uint32ToUnit(bits[i + 1]!);
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }

  /**
   * n integers in [low, high). Throws ValueError unless low < high are integers and every
   * value fits int32 (-2^31 <= low, high <= 2^31).
   */
  integers(n: number, low: number, high: number): Int32Array {
    const fits = (v: number) => Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31;
    if (!(fits(low) && fits(high) && high > low))
      throw new ValueError(
        `randint: need integers low < high within int32 (-2^31 <= low, high <= 2^31), got [${low}, ${high})`,
      );
    const bits = this.bits(n);
    const out = new Int32Array(n);
    const range = high - low;
    for (let i = 0; i < n; i++) out[i] = low + Math.floor((bits[i]! * range) / 2 ** 32);
    return out;
  }
}

/**
 * A new seed from `seed` and a small integer `data` (JAX's random.fold_in): Threefry of the
 * counter (data, 0) under the seed's key, cut to 53 bits so it is a safe integer. Seeds folded
 * with different data give generators whose streams share no bits with each other or, but for
 * a 2^-53 chance, with Generator(seed) itself: how one run seed feeds several random streams.
 */
export function foldIn(seed: number, data: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`foldIn: seed must be a non-negative safe integer, got ${seed}`);
  if (!Number.isInteger(data) || data < 0 || data >= 2 ** 32)
    throw new RangeError(`foldIn: data must be a uint32, got ${data}`);
  const out = new Uint32Array(2);
  threefry2x32((seed % 2 ** 32) >>> 0, Math.floor(seed / 2 ** 32) >>> 0, data, 0, out);
  return out[0]! + (out[1]! >>> 11) * 2 ** 32;
}

let globalGenerator = new Generator(0);

/** Reseeds the default generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  globalGenerator = new Generator(seed);
}

export function defaultGenerator(): Generator {
  return globalGenerator;
}
