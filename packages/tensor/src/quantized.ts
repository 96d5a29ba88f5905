/**
 * Block-quantized weight matrices: 8-bit (`q8_0`) and 4-bit (`q4_0`) integers in blocks of 32
 * along K with one float16 scale a block, the layouts of llama.cpp's Q8_0 and Q4_0 (8.5 and
 * 4.5 bits a weight). A quantized matrix is the weight operand B of `out = a @ B^T` seen as
 * N rows of K (K contiguous, as the kernels stream it): GPT-2's linear weights (in, out) are
 * stored transposed, the output head (V, C) as it is.
 *
 * - q8_0: d = f16(max|x| / 127); q = round(x / d) in [-127, 127]; x ~ q * d.
 * - q4_0: m = the element of largest magnitude (its sign kept), d = f16(m / -8);
 *   q = clamp(round(x / d) + 8, 0, 15); x ~ (q - 8) * d. Byte j (0..15) of a block holds
 *   element j in its low nibble and element j + 16 in its high nibble.
 * K that is not a multiple of 32 is padded with zeros to whole blocks. Blocks whose elements
 * are all 0 (or whose scale underflows float16) have scale 0 and decode to zeros; scales may be
 * float16 subnormals, which decode exactly. The quantized integers are computed against the
 * rounded float16 scale, so a subnormal scale loses no more than its own rounding.
 *
 * On a device the integers and the scales are two tensors: `data` holds the packed bytes as raw
 * 16-bit words of a float16-typed tensor (the dtype the fast CPU backend keeps in its
 * WebAssembly heap and WebGPU in a u32-readable buffer; nothing reads them as floats), `scales`
 * the float16 scales (N, blocks).
 */
import type { Device } from './device.js';
import { float16Bits, float16ToFloat32Bits } from './dtype.js';
import { ShapeError } from './errors.js';
import { type Tensor, empty, hostData } from './tensor.js';

/** The block formats. */
export type QuantFormat = 'q8_0' | 'q4_0';
export const quantFormats: readonly QuantFormat[] = ['q8_0', 'q4_0'];

/** Weights a block. */
export const QUANT_BLOCK = 32;

/** Bytes of one block's integers: 32 for q8_0, 16 for q4_0 (the float16 scale is stored apart). */
export function blockBytes(format: QuantFormat): number {
  return format === 'q8_0' ? 32 : 16;
}

/** Blocks of one row of K weights. */
export function blocksPerRow(K: number): number {
  return Math.ceil(K / QUANT_BLOCK);
}

/** Bytes a quantized (N, K) matrix takes (integers plus scales). */
export function quantizedBytes(format: QuantFormat, N: number, K: number): number {
  return N * blocksPerRow(K) * (blockBytes(format) + 2);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toF16(v: number): number {
  f32[0] = v;
  return float16Bits(u32[0]!);
}

function fromF16(h: number): number {
  u32[0] = float16ToFloat32Bits(h);
  return f32[0]!;
}

/**
 * Quantizes rows of a float32 matrix into `data` / `scales` (host arrays). Row r (of `rows`)
 * is x[first + r * rowStride + k * colStride] for k < K; it becomes the blocks of row `outRow + r`.
 * `data` holds N * blocks * blockBytes bytes, `scales` N * blocks float16 bits.
 */
export function quantizeRows(
  format: QuantFormat,
  x: ArrayLike<number>,
  first: number,
  rowStride: number,
  colStride: number,
  rows: number,
  K: number,
  data: Uint8Array,
  scales: Uint16Array,
  outRow: number,
): void {
  const nb = blocksPerRow(K);
  const bb = blockBytes(format);
  const block = new Float32Array(QUANT_BLOCK);
  for (let r = 0; r < rows; r++) {
    const base = first + r * rowStride;
    for (let b = 0; b < nb; b++) {
      block.fill(0);
      const k0 = b * QUANT_BLOCK;
      const n = Math.min(QUANT_BLOCK, K - k0);
      for (let i = 0; i < n; i++) block[i] = x[base + (k0 + i) * colStride]!;
      const at = (outRow + r) * nb + b;
      scales[at] = encodeBlock(format, block, data, at * bb);
    }
  }
}

/** Encodes 32 values into `data` at byte `offset`; returns the float16 bits of the block's scale. */
export function encodeBlock(format: QuantFormat, block: Float32Array, data: Uint8Array, offset: number): number {
  if (format === 'q8_0') {
    let amax = 0;
    for (let i = 0; i < QUANT_BLOCK; i++) amax = Math.max(amax, Math.abs(block[i]!));
    let h = toF16(amax / 127);
    if ((h & 0x7fff) >= 0x7c00) h = 0x7bff; // past float16's range: its largest finite scale, values clamp
    const d = fromF16(h);
    for (let i = 0; i < QUANT_BLOCK; i++) {
      const q = d === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(block[i]! / d)));
      data[offset + i] = q & 0xff;
    }
    return h;
  }
  let m = 0;
  for (let i = 0; i < QUANT_BLOCK; i++) if (Math.abs(block[i]!) > Math.abs(m)) m = block[i]!;
  let h = toF16(m / -8);
  if ((h & 0x7fff) >= 0x7c00) h = (h & 0x8000) | 0x7bff;
  if ((h & 0x7fff) === 0) h = 0; // -0 from an all-zero block: store plain 0
  const d = fromF16(h);
  for (let j = 0; j < 16; j++) {
    const lo = d === 0 ? 8 : Math.max(0, Math.min(15, Math.round(block[j]! / d) + 8));
    const hi = d === 0 ? 8 : Math.max(0, Math.min(15, Math.round(block[j + 16]! / d) + 8));
    data[offset + j] = lo | (hi << 4);
  }
  return h;
}

/** Decodes rows [first, first + rows) of a quantized (N, K) matrix into `out` (rows x K float32). */
export function dequantizeRows(
  format: QuantFormat,
  data: Uint8Array,
  scales: Uint16Array,
  K: number,
  first: number,
  rows: number,
  out: Float32Array,
): void {
  const nb = blocksPerRow(K);
  const bb = blockBytes(format);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const at = (first + r) * nb + b;
      const d = fromF16(scales[at]!);
      const k0 = b * QUANT_BLOCK;
      const n = Math.min(QUANT_BLOCK, K - k0);
      const o = r * K + k0;
      const p = at * bb;
      if (format === 'q8_0') {
        for (let i = 0; i < n; i++) out[o + i] = ((data[p + i]! << 24) >> 24) * d;
      } else {
        for (let i = 0; i < n; i++) {
          const byte = data[p + (i & 15)]!;
          out[o + i] = ((i < 16 ? byte & 15 : byte >> 4) - 8) * d;
        }
      }
    }
  }
}

/**
 * A quantized (N, K) weight matrix on a device: `data` the packed integers (raw bytes in a
 * float16-typed tensor of shape (N, blocks * blockBytes / 2)), `scales` float16 (N, blocks).
 * Disposing it frees both.
 */
export class QuantizedTensor {
  constructor(
    readonly format: QuantFormat,
    readonly N: number,
    readonly K: number,
    readonly data: Tensor,
    readonly scales: Tensor,
  ) {
    const nb = blocksPerRow(K);
    if (data.size * 2 !== N * nb * blockBytes(format) || scales.size !== N * nb)
      throw new ShapeError(
        `QuantizedTensor: ${format} (${N}, ${K}) needs ${N * nb * blockBytes(format)} bytes and ${N * nb} scales, got ${data.size * 2} and ${scales.size}`,
      );
  }

  get device(): Device {
    return this.data.device;
  }

  /** Bytes held (integers and scales). */
  get byteLength(): number {
    return 2 * (this.data.size + this.scales.size);
  }

  /** The stored integers' bytes and the scales' bits, read back to the host. */
  async toHost(): Promise<{ data: Uint8Array; scales: Uint16Array }> {
    const words = (await this.data.toBits()) as Uint16Array;
    const scales = (await this.scales.toBits()) as Uint16Array;
    return { data: new Uint8Array(words.buffer, words.byteOffset, words.byteLength), scales };
  }

  /** The matrix decoded to float32 (N, K) on the host (tests, quality figures). */
  async dequantize(): Promise<Float32Array> {
    const { data, scales } = await this.toHost();
    const out = new Float32Array(this.N * this.K);
    dequantizeRows(this.format, data, scales, this.K, 0, this.N, out);
    return out;
  }

  dispose(): void {
    this.data.dispose();
    this.scales.dispose();
  }
}

/** An uninitialised quantized (N, K) matrix on `device` (a loader fills it through `quantizedHost`). */
export function emptyQuantized(format: QuantFormat, N: number, K: number, device: Device): QuantizedTensor {
  const nb = blocksPerRow(K);
  const data = empty([N, (nb * blockBytes(format)) / 2], 'float16', device);
  try {
    return new QuantizedTensor(format, N, K, data, empty([N, nb], 'float16', device));
  } catch (e) {
    data.dispose();
    throw e;
  }
}

/**
 * The host memory of a quantized matrix where its device keeps it there (CPU devices): the
 * integer bytes and the scale bits, to fill in place; null on a GPU.
 */
export function quantizedHost(q: QuantizedTensor): { data: Uint8Array; scales: Uint16Array } | null {
  const d = hostData(q.data) as Uint16Array | null;
  const s = hostData(q.scales) as Uint16Array | null;
  if (!d || !s) return null;
  return {
    data: new Uint8Array(d.buffer, d.byteOffset + 2 * q.data.offset, 2 * q.data.size),
    scales: s.subarray(q.scales.offset, q.scales.offset + q.scales.size),
  };
}

/**
 * A quantized matrix on `device` from host bytes (`data`: N * blocks * blockBytes bytes,
 * `scales`: N * blocks float16 bits), copied.
 */
export function quantizedFromHost(
  format: QuantFormat,
  N: number,
  K: number,
  data: Uint8Array,
  scales: Uint16Array,
  device: Device,
): QuantizedTensor {
  const q = emptyQuantized(format, N, K, device);
  const nb = blocksPerRow(K);
  if (data.byteLength !== N * nb * blockBytes(format) || scales.length !== N * nb) {
    q.dispose();
    throw new ShapeError(
      `quantized ${format} (${N}, ${K}): expected ${N * nb * blockBytes(format)} bytes and ${N * nb} scales, got ${data.byteLength} and ${scales.length}`,
    );
  }
  const host = quantizedHost(q);
  if (host) {
    host.data.set(data);
    host.scales.set(scales);
  } else {
    const words = new Uint16Array(data.byteLength / 2);
    new Uint8Array(words.buffer).set(data);
    device.backend.upload(q.data.storage, words);
    device.backend.upload(q.scales.storage, scales.slice());
  }
  return q;
}

/**
 * Quantizes a float32 (N, K) host matrix (row-major, or (K, N) with `transposed`) to `format`
 * on `device`.
 */
export function quantizeMatrix(
  format: QuantFormat,
  x: Float32Array,
  N: number,
  K: number,
  device: Device,
  transposed = false,
): QuantizedTensor {
  const nb = blocksPerRow(K);
  const data = new Uint8Array(N * nb * blockBytes(format));
  const scales = new Uint16Array(N * nb);
  quantizeRows(format, x, 0, transposed ? 1 : K, transposed ? N : 1, N, K, data, scales, 0);
  return quantizedFromHost(format, N, K, data, scales, device);
}
