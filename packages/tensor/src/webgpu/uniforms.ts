/**
 * Writes a WGSL uniform struct field by field, following WGSL's layout: scalars align to 4,
 * vec2 to 8, vec4 and arrays of vec4 to 16, and the struct's size rounds up to 16.
 */
export class Uniforms {
  private readonly view = new DataView(new ArrayBuffer(512));
  private at = 0;

  private align(n: number): void {
    this.at = Math.ceil(this.at / n) * n;
  }

  u32(...values: number[]): this {
    for (const v of values) {
      if (!(v >= 0 && v < 2 ** 32 && Number.isInteger(v))) throw new RangeError(`uniform u32 out of range: ${v}`);
      this.view.setUint32(this.at, v, true);
      this.at += 4;
    }
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) {
      this.view.setInt32(this.at, v, true);
      this.at += 4;
    }
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) {
      this.view.setFloat32(this.at, v, true);
      this.at += 4;
    }
    return this;
  }

  vec2u32(x: number, y: number): this {
    this.align(8);
    return this.u32(x, y);
  }

  /** An array<vec4<u32>, n> holding `values` (zero-padded to 4n entries). */
  u32Array(values: readonly number[], vec4s: number): this {
    this.align(16);
    const padded = [...values, ...new Array<number>(vec4s * 4 - values.length).fill(0)];
    return this.u32(...padded);
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.view.buffer, 0, Math.ceil(this.at / 16) * 16);
  }
}
