/**
 * Counter-based random numbers: Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", 2011; the generator JAX uses). Only 32-bit add, rotate and xor,
 * so the WGSL copy in shaders/dropout.wgsl gives the same bits as this one, and every element's
 * numbers depend only on (key, counter): any backend, any order, the same values.
 *
 * A call that makes n numbers takes one fresh stream from its Generator (counter word 1) and
 * uses counter word 0 = pair index, two 32-bit outputs per counter.
 */

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24];
const KEY_PARITY = 0x1bd11bda;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** Threefry-2x32-20 of counter (c0, c1) under key (k0, k1); writes two uint32 into `out`. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number, out: Uint32Array): void {
  const ks = [k0 >>> 0, k1 >>> 0, (KEY_PARITY ^ k0 ^ k1) >>> 0];
  let x0 = (c0 + ks[0]!) >>> 0;
  let x1 = (c1 + ks[1]!) >>> 0;
  for (let round = 0; round < 20; round++) {
    x0 = (x0 + x1) >>> 0;
    x1 = rotl(x1, ROTATIONS[round % 8]!);
    x1 = (x1 ^ x0) >>> 0;
    if (round % 4 === 3) {
      const inject = (round + 1) / 4;
      x0 = (x0 + ks[inject % 3]!) >>> 0;
      x1 = (x1 + ks[(inject + 1) % 3]! + inject) >>> 0;
    }
  }
  out[0] = x0;
  out[1] = x1;
}

/** Uniform in [0, 1) from the top 24 bits: exact in float32, so every backend agrees. */
export function uint32ToUnit(x: number): number {
  return (x >>> 8) * 2 ** -24;
}

/** A seeded source of streams. Each random op takes the next stream id. */
export class Generator {
  readonly key: readonly [number, number];
  private nextStream = 0;

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Generator: seed must be a non-negative safe integer, got ${seed}`);
    this.key = [seed % 2 ** 32 >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
  }

  /** The stream id the next random op uses (also what a checkpoint saves to resume). */
  get streamPosition(): number {
    return this.nextStream;
  }

  set streamPosition(position: number) {
    if (!Number.isInteger(position) || position < 0 || position >= 2 ** 32) throw new RangeError(`Generator: stream position ${position} is out of range`);
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
    const bits = this.bits(n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * uint32ToUnit(bits[i]!);
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

  /** n integers in [low, high). */
  integers(n: number, low: number, high: number): Int32Array {
    if (!(Number.isInteger(low) && Number.isInteger(high) && high > low)) throw new RangeError(`randint: need integers low < high, got [${low}, ${high})`);
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
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`foldIn: seed must be a non-negative safe integer, got ${seed}`);
  if (!Number.isInteger(data) || data < 0 || data >= 2 ** 32) throw new RangeError(`foldIn: data must be a uint32, got ${data}`);
  const out = new Uint32Array(2);
  threefry2x32(seed % 2 ** 32 >>> 0, Math.floor(seed / 2 ** 32) >>> 0, data, 0, out);
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
