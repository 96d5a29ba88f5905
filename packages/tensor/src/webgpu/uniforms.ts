/**
 * Writes a WGSL uniform struct field by field, following WGSL's layout: scalars align to 4,
 * vec2 to 8, vec4 and arrays of vec4 to 16, and the struct's size rounds up to 16.
 *
 * The fields are kept as 32-bit words in a plain array (floats as their bits): a dispatch copies
 * them into the backend's uniform arena, and a plain array is cheaper to make than the
 * ArrayBuffer a DataView would need for every dispatch.
 */
const floatBits = new Float32Array(1);
const wordOfFloat = new Uint32Array(floatBits.buffer);

/** Most bytes a struct may take (the backend's uniform binding spans 512 per dispatch). */
const MAX_BYTES = 512;

export class Uniforms {
  private readonly words: number[] = [];
  /**
   * Word indices of dropout stream ids (stream()): a captured step's replay adds the streams the
   * generator has advanced by since the capture to these words (webgpu/capture.ts).
   */
  streamWords: number[] | null = null;
  /**
   * Word indices and names of words a replay recomputes (named(): AdamW's learning-rate terms),
   * pairs (index, name).
   */
  namedWords: (number | string)[] | null = null;

  private align(n: number): void {
    while ((this.words.length * 4) % n !== 0) this.words.push(0);
  }

  private push(word: number): void {
    if (this.words.length * 4 >= MAX_BYTES) throw new RangeError(`uniforms past ${MAX_BYTES} bytes`);
    this.words.push(word);
  }

  u32(...values: number[]): this {
    for (const v of values) {
      if (!(v >= 0 && v < 2 ** 32 && Number.isInteger(v))) throw new RangeError(`uniform u32 out of range: ${v}`);
      this.push(v);
    }
    return this;
  }

  /**
   * A dropout mask's stream id (a u32): marked, so that a replayed capture draws the step's own
   * masks (the stream advances every step; the key does not).
   */
  stream(value: number): this {
    (this.streamWords ??= []).push(this.words.length);
    return this.u32(value);
  }

  /**
   * A float32 that a replayed capture recomputes from its name (AdamW's learning-rate terms,
   * which change every step): written as f32() writes it, and marked.
   */
  named(name: string, value: number): this {
    (this.namedWords ??= []).push(this.words.length, name);
    return this.f32(value);
  }

  /** Written as its two's-complement bits (ToInt32, as DataView.setInt32 does). */
  i32(...values: number[]): this {
    for (const v of values) this.push(v >>> 0);
    return this;
  }

  /** Rounded to float32 (as DataView.setFloat32 does) and written as its bits. */
  f32(...values: number[]): this {
    for (const v of values) {
      floatBits[0] = v;
      this.push(wordOfFloat[0]!);
    }
    return this;
  }

  vec2u32(x: number, y: number): this {
    this.align(8);
    return this.u32(x, y);
  }

  /** An array<vec4<u32>, n> holding `values` (zero-padded to 4n entries). */
  u32Array(values: readonly number[], vec4s: number, names?: ReadonlyMap<number, string>): this {
    this.align(16);
    if (values.length > vec4s * 4) throw new RangeError(`uniform array: ${values.length} values for ${vec4s} vec4s`);
    // `names`: value index -> name, for words a replay recomputes (as named()).
    if (names) for (const [i, name] of names) (this.namedWords ??= []).push(this.words.length + i, name);
    this.u32(...values);
    for (let i = values.length; i < vec4s * 4; i++) this.push(0);
    return this;
  }

  /** The struct's size in bytes (a multiple of 16). */
  get byteLength(): number {
    return Math.ceil(this.words.length / 4) * 16;
  }

  /** Writes the struct's words into `target` from word `at` on (byteLength / 4 words, zero-padded). */
  writeTo(target: Uint32Array, at: number): void {
    const words = this.words;
    const n = this.byteLength / 4;
    for (let i = 0; i < n; i++) target[at + i] = i < words.length ? words[i]! : 0;
  }

  /** The struct's bytes (little-endian: a Uint32Array's order on every host Dawn runs on). */
  bytes(): Uint8Array {
    const out = new Uint32Array(this.byteLength / 4);
    this.writeTo(out, 0);
    return new Uint8Array(out.buffer);
  }
}
