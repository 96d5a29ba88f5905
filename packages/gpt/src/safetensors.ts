/**
 * A strict safetensors reader and writer (format: 8-byte little-endian header length N, N bytes
 * of JSON header, then the data). The reader checks everything before trusting it and names
 * the file, the tensor and the offset at fault; it reads one tensor at a time, so loading needs
 * memory for the largest tensor, not the file. Reading converts F16 and BF16 to float32.
 * Byte access goes through ByteSource/ByteSink so this module stays free of Node's fs.
 */
import { MiniGptError } from '@mini/tensor';
import type { TypedArray } from '@mini/tensor';
import { parseJsonStrict } from './json.js';

// Tensor bytes are written and read as the platform's typed arrays: refuse a big-endian host.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class SafetensorsError extends MiniGptError {
  override name = 'SafetensorsError';
}

/** Random-access bytes: a file (node/files.ts), a Blob, an ArrayBuffer. */
export interface ByteSource {
  /** For messages: a path or a name. */
  readonly name: string;
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Fills `target` with the bytes from `offset` (a file reads straight into it; optional). */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
}

/** Fills `target` from `offset` of `source`, without an intermediate buffer where the source allows. */
export async function readBytesInto(source: ByteSource, offset: number, target: Uint8Array): Promise<void> {
  if (source.readInto) await source.readInto(offset, target);
  else target.set(await source.read(offset, target.byteLength));
}

export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

export const dtypeBytes = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;
export type SafetensorsDType = keyof typeof dtypeBytes;
/** What this reader converts; the rest are recognised but refused with a clear message. */
const READABLE: readonly SafetensorsDType[] = ['F32', 'F16', 'BF16', 'I32'];

export interface TensorEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Byte offsets in the file (already shifted past the header). */
  readonly start: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly source: ByteSource;
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Headers above this are refused (real ones are kilobytes; the reference implementation caps at 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

function fail(source: ByteSource, message: string): never {
  throw new SafetensorsError(`${source.name}: ${message}`);
}

export async function readHeader(source: ByteSource): Promise<SafetensorsHeader> {
  if (source.size < 8)
    fail(source, `file of ${source.size} bytes is too short for a safetensors header length (8 bytes)`);
  const lengthBytes = await source.read(0, 8);
  const view = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES)
    fail(source, `header length ${headerLength} is above the ${MAX_HEADER_BYTES}-byte cap (not a safetensors file?)`);
  if (8 + headerLength > source.size)
    fail(source, `header length ${headerLength} runs past the end of the file (${source.size} bytes)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await source.read(8, headerLength));
  } catch (e) {
    fail(source, `header is not valid UTF-8: ${(e as Error).message}`);
  }
  const parsed = parseJsonStrict(text, 'tensor');
  if ('error' in parsed) fail(source, `header ${parsed.error}`);
  const json = parsed.value;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(source, 'header must be a JSON object');
  const dataStart = 8 + headerLength;
  const dataSize = source.size - dataStart;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Object.values(raw).some((v) => typeof v !== 'string'))
        fail(source, '__metadata__ must map strings to strings');
      metadata = raw as Record<string, string>;
      continue;
    }
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== 'object' || entry === null) fail(source, `tensor "${name}": entry must be an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || !(dtype in dtypeBytes))
      fail(source, `tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      fail(source, `tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(source, `tensor "${name}": data_offsets ${JSON.stringify(offsets)} must be two non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(source, `tensor "${name}": data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataSize)
      fail(
        source,
        `tensor "${name}": data_offsets [${begin}, ${end}] run past the data (${dataSize} bytes after the header)`,
      );
    const expected = (shape as number[]).reduce((p, d) => p * d, 1) * dtypeBytes[dtype as SafetensorsDType];
    if (end - begin !== expected)
      fail(
        source,
        `tensor "${name}": ${end - begin} bytes at offset ${dataStart + begin} but ${dtype} [${(shape as number[]).join(', ')}] needs ${expected}`,
      );
    tensors.set(name, {
      name,
      dtype: dtype as SafetensorsDType,
      shape: shape as number[],
      start: dataStart + begin,
      end: dataStart + end,
    });
  }
  // Regions must tile the data exactly: no overlap, no hole, nothing after the last one.
  const ordered = [...tensors.values()].sort((a, b) => a.start - b.start || a.end - b.end);
  let cursor = dataStart;
  for (const t of ordered) {
    if (t.start < cursor)
      fail(source, `tensor "${t.name}" at offset ${t.start} overlaps the previous tensor (which ends at ${cursor})`);
    if (t.start > cursor)
      fail(source, `${t.start - cursor} unused bytes at offset ${cursor}, before tensor "${t.name}"`);
    cursor = t.end;
  }
  if (cursor !== source.size)
    fail(source, `${source.size - cursor} bytes after the last tensor (offset ${cursor}) are not part of any tensor`);
  return { source, tensors, metadata };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** One tensor's values: float32 for F32/F16/BF16, int32 for I32. */
export async function readTensor(header: SafetensorsHeader, name: string): Promise<Float32Array | Int32Array> {
  const entry = header.tensors.get(name);
  if (!entry) fail(header.source, `no tensor named "${name}"`);
  if (!READABLE.includes(entry.dtype))
    fail(header.source, `tensor "${name}": dtype ${entry.dtype} is not supported (F32, F16, BF16 and I32 are)`);
  const bytes = await header.source.read(entry.start, entry.end - entry.start);
  const count = (entry.end - entry.start) / dtypeBytes[entry.dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!LITTLE_ENDIAN) fail(header.source, 'this host is big-endian; safetensors data is little-endian');
  // A source that handed over a buffer of its own (a file read) is viewed in place, not copied.
  const own =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
  switch (entry.dtype) {
    case 'F32':
      return new Float32Array(own, 0, count);
    case 'I32':
      return new Int32Array(own, 0, count);
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    default: {
      // BF16: the top 16 bits of a float32
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, true) << 16;
      return new Float32Array(out.buffer);
    }
  }
}

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  /** F16/BF16 data is the raw 16-bit patterns (a Uint16Array); U8 raw bytes (quantized weights). */
  dtype: 'F32' | 'I32' | 'F16' | 'BF16' | 'U8';
  /** Called when this tensor's turn comes, so only one is in host memory at a time. */
  data: () => Promise<TypedArray | Uint8Array>;
}

/** The typed array each written dtype's data must be (F32 values under I32 were written as is). */
const WRITE_ARRAYS: Record<TensorToWrite['dtype'], { name: string; [Symbol.hasInstance](x: unknown): boolean }> = {
  F32: Float32Array,
  I32: Int32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  U8: Uint8Array,
};

/**
 * Writes a safetensors stream: the header (padded to 8 bytes), then each tensor in order.
 * @throws SafetensorsError, before writing, for what readHeader would refuse or readTensor
 *   misread: a tensor named __metadata__ or twice, a dtype other than F32, I32, F16, BF16 or
 *   U8, a shape that is not a list of integers >= 0, metadata values that are not strings;
 *   and, at its turn, a tensor whose data has the wrong count or typed-array kind
 */
export async function writeSafetensors(
  sink: ByteSink,
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = {},
): Promise<void> {
  const header: Record<string, unknown> = {};
  const fail = (why: string): never => {
    throw new SafetensorsError(`writeSafetensors: ${why}`);
  };
  if (typeof metadata !== 'object' || metadata === null || Object.values(metadata).some((v) => typeof v !== 'string'))
    fail(`metadata must map strings to strings, got ${JSON.stringify(metadata)}`);
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (typeof t.name !== 'string' || t.name === '__metadata__')
      fail(`tensor name ${JSON.stringify(t.name)} is not allowed (the header's metadata key)`);
    if (!Object.hasOwn(WRITE_ARRAYS, t.dtype))
      fail(`tensor "${t.name}": dtype ${JSON.stringify(t.dtype)} is not one it writes (F32, I32, F16, BF16, U8)`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      fail(`tensor "${t.name}": shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    if (t.name in header) throw new SafetensorsError(`writeSafetensors: tensor name "${t.name}" appears twice`);
    const bytes = t.shape.reduce((p, d) => p * d, 1) * dtypeBytes[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the data starts 8-byte aligned
  const encoded = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(encoded.byteLength), true);
  await sink.write(prefix);
  await sink.write(encoded);
  for (const t of tensors) {
    const data = await t.data();
    const expected = t.shape.reduce((p, d) => p * d, 1);
    if (data.length !== expected || !(data instanceof WRITE_ARRAYS[t.dtype])) {
      throw new SafetensorsError(
        `writeSafetensors: tensor "${t.name}" gave ${data.length} values in a ${data.constructor.name} for ${t.dtype} [${t.shape.join(', ')}] (it needs ${expected} values as ${WRITE_ARRAYS[t.dtype].name})`,
      );
    }
    if (!LITTLE_ENDIAN)
      throw new SafetensorsError('writeSafetensors: this host is big-endian; safetensors data is little-endian');
    await sink.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
}

/** A ByteSource over bytes in memory (tests, browsers). */
export function bytesSource(bytes: Uint8Array, name = 'buffer'): ByteSource {
  return { name, size: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}
