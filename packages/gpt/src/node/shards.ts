/**
 * Token shards in llm.c's `.bin` layout: a header of 256 little-endian int32 (magic 20240520,
 * version 1, the token count, the rest 0), then the tokens as little-endian uint16. nanoGPT-
 * and llm.c-style loaders read them as they are (`np.memmap(path, dtype=np.uint16, offset=1024)`).
 *
 * Reading: a ShardDataset sees the shards of a split as one stream of tokens and reads each
 * window with a positioned read (pread) of its bytes, so resident memory is one batch, not the
 * corpus; a window may span two shards.
 */
import { MiniGptError } from '@mini/tensor';
import { closeSync, fstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeAllSync } from './files.js';

/** The first int32 of a shard's header (llm.c's). */
export const SHARD_MAGIC = 20240520;
/** The header's version: 1, uint16 tokens. */
export const SHARD_VERSION = 1;
/** Header size in bytes: 256 int32. */
export const SHARD_HEADER_BYTES = 256 * 4;

/** A file that is not a token shard, or one whose size does not match its header. */
export class ShardError extends MiniGptError {
  override name = 'ShardError';
}

/** The header of a shard holding `tokens` tokens (1024 bytes). */
export function shardHeader(tokens: number): Uint8Array {
  const header = new Int32Array(256);
  header[0] = SHARD_MAGIC;
  header[1] = SHARD_VERSION;
  header[2] = tokens;
  return new Uint8Array(header.buffer);
}

/** Reads and checks a shard's header; returns its token count. Throws ShardError naming the file. */
export function readShardHeader(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const bytes = new Uint8Array(SHARD_HEADER_BYTES);
    const got = readSync(fd, bytes, 0, SHARD_HEADER_BYTES, 0);
    const header = new Int32Array(bytes.buffer);
    if (got < SHARD_HEADER_BYTES || header[0] !== SHARD_MAGIC)
      throw new ShardError(`${path}: not a token shard (no llm.c header with magic ${SHARD_MAGIC})`);
    if (header[1] !== SHARD_VERSION)
      throw new ShardError(
        `${path}: shard version ${header[1]}, only version ${SHARD_VERSION} (uint16 tokens) is read`,
      );
    const tokens = header[2]!;
    const size = fstatSync(fd).size;
    if (size !== SHARD_HEADER_BYTES + 2 * tokens)
      throw new ShardError(
        `${path}: the header says ${tokens} tokens (${SHARD_HEADER_BYTES + 2 * tokens} bytes), the file has ${size} bytes`,
      );
    return tokens;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes shards `<dir>/<prefix>_000000.bin`, `_000001.bin`, … of at most `shardTokens` tokens
 * each, as tokens come (the header's count is written when a shard closes).
 */
export class ShardWriter {
  private fd: number | null = null;
  private inShard = 0;
  /** The shards written so far (file names) and their token counts. */
  readonly shards: { file: string; tokens: number }[] = [];
  tokens = 0;

  constructor(
    readonly dir: string,
    readonly prefix: string,
    readonly shardTokens: number,
  ) {
    if (!(Number.isInteger(shardTokens) && shardTokens > 0 && shardTokens < 2 ** 31))
      throw new RangeError(`ShardWriter: shardTokens must be an integer in [1, 2^31), got ${shardTokens}`);
  }

  /** Appends uint16 token ids, opening new shards as they fill. */
  write(ids: Uint16Array): void {
    let at = 0;
    while (at < ids.length) {
      if (this.fd === null || this.inShard === this.shardTokens) this.open();
      const n = Math.min(ids.length - at, this.shardTokens - this.inShard);
      const part = ids.subarray(at, at + n);
      writeAllSync(this.fd!, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      this.inShard += n;
      this.tokens += n;
      this.shards[this.shards.length - 1]!.tokens = this.inShard;
      at += n;
    }
  }

  private open(): void {
    this.closeShard();
    const file = `${this.prefix}_${String(this.shards.length).padStart(6, '0')}.bin`;
    this.fd = openSync(join(this.dir, file), 'w');
    writeAllSync(this.fd, shardHeader(0));
    this.shards.push({ file, tokens: 0 });
    this.inShard = 0;
  }

  private closeShard(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      writeAllSync(fd, shardHeader(this.inShard), 0);
    } finally {
      closeSync(fd);
    }
  }

  /** Closes the last shard (writing its header). */
  close(): void {
    this.closeShard();
  }
}

/** The shard files of `split` ("train" or "val") in `dir`, in order. */
export function shardFiles(dir: string, split: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith(`${split}_`) && name.endsWith('.bin'))
    .sort()
    .map((name) => join(dir, name));
}

/**
 * The shards of one split as one stream of tokens, cut into windows of `maxLength` + 1 tokens
 * (input and target shifted by one) every `stride` tokens, as SlidingWindowDataset does on
 * ids in memory. A window is read from the files when it is asked for.
 */
export class ShardDataset {
  /** Where each shard starts in the stream (tokens), and the stream's length. */
  private readonly offsets: number[] = [];
  readonly tokens: number;
  private readonly fds: number[];
  readonly length: number;

  constructor(
    readonly files: readonly string[],
    readonly maxLength: number,
    readonly stride: number,
  ) {
    if (!(Number.isInteger(maxLength) && maxLength > 0 && Number.isInteger(stride) && stride > 0))
      throw new RangeError(
        `ShardDataset: maxLength and stride must be positive integers, got ${maxLength} and ${stride}`,
      );
    let total = 0;
    for (const file of files) {
      this.offsets.push(total);
      total += readShardHeader(file);
    }
    this.tokens = total;
    this.fds = files.map((file) => openSync(file, 'r'));
    // Starts s with s + maxLength < tokens (a target needs the token after the window).
    this.length = total > maxLength ? Math.floor((total - maxLength - 1) / stride) + 1 : 0;
  }

  /** `count` tokens from stream position `start`, across shard boundaries. */
  read(start: number, count: number): Uint16Array {
    const out = new Uint16Array(count);
    let done = 0;
    // The last shard whose offset is at or before start.
    let k = 0;
    for (let lo = 0, hi = this.offsets.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid]! <= start) {
        k = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (done < count) {
      if (k >= this.fds.length) throw new RangeError(`ShardDataset: tokens ${start}..${start + count} past the end`);
      const within = start + done - this.offsets[k]!;
      const inShard = (this.offsets[k + 1] ?? this.tokens) - this.offsets[k]!;
      const n = Math.min(count - done, inShard - within);
      if (n > 0) {
        const bytes = new Uint8Array(out.buffer, 2 * done, 2 * n);
        const got = readSync(this.fds[k]!, bytes, 0, 2 * n, SHARD_HEADER_BYTES + 2 * within);
        if (got !== 2 * n) throw new ShardError(`${this.files[k]}: cut short while reading`);
        done += n;
      }
      k++;
    }
    return out;
  }

  /** Window i: input tokens [s, s + maxLength) and target [s + 1, s + maxLength], s = i * stride. */
  item(i: number): { input: number[]; target: number[] } {
    const window = this.read(i * this.stride, this.maxLength + 1);
    const ids = Array.from(window);
    return { input: ids.slice(0, this.maxLength), target: ids.slice(1) };
  }

  /** Closes the files. */
  close(): void {
    for (const fd of this.fds) closeSync(fd);
    this.fds.length = 0;
  }
}
