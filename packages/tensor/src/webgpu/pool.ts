/**
 * Buffer pool: freed GPU buffers go back to a free list by size class and are handed out again,
 * so a training loop that makes the same shapes every step allocates nothing after its first.
 * Size classes are powers of two split in quarters (at most 25% slack); small ones round to 256 B.
 *
 * A size class hands out its free buffer made first (not the one freed last): which buffer a
 * tensor gets then depends only on which buffers are free, not on the order they were freed in,
 * so every step of a loop binds the same buffers in the same places and the backend's cached
 * bind groups hit (a stack would permute the buffers a little every step).
 */

const USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const top = 2 ** Math.floor(Math.log2(bytes));
  if (top === bytes) return bytes;
  const quarter = top / 4;
  return top + Math.ceil((bytes - top) / quarter) * quarter;
}

export interface PoolStats {
  /** Bytes of buffers held by live tensors (by size class). */
  liveBytes: number;
  liveBuffers: number;
  /** Bytes of freed buffers kept for reuse. */
  pooledBytes: number;
  /** Buffers created since the device started (growth means the pool is missing). */
  created: number;
  /** The most live bytes at once since the last resetPeak(). */
  peakBytes: number;
}

export class BufferPool {
  /** Free buffers by size class, sorted by creation order descending (pop() gives the oldest). */
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly serial = new WeakMap<GPUBuffer, number>();
  private live = 0;
  private liveCount = 0;
  private pooled = 0;
  private created = 0;
  private peak = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
  ) {}

  /**
   * The size of the buffer acquire() hands out for `bytes` (its size class, or `bytes` rounded to
   * a word past the largest class).
   * @throws RangeError past the adapter's maxBufferSize
   */
  sizeFor(bytes: number): number {
    let size = sizeClass(bytes);
    if (size > this.maxBufferSize) size = Math.ceil(bytes / 4) * 4;
    if (size > this.maxBufferSize) {
      throw new RangeError(
        `WebGPU: a tensor of ${bytes} bytes exceeds this adapter's maxBufferSize (${this.maxBufferSize} bytes)`,
      );
    }
    return size;
  }

  /** A buffer of `size` bytes, a size sizeFor() returned: a free one, else a new one. */
  acquire(size: number): GPUBuffer {
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.pooled -= size;
    } else {
      buffer = this.device.createBuffer({ size, usage: USAGE });
      this.serial.set(buffer, this.created);
      this.created++;
    }
    this.live += size;
    this.liveCount++;
    this.peak = Math.max(this.peak, this.live);
    return buffer;
  }

  /** Takes back a buffer acquire() handed out; `size` is its size (GPUBuffer.size is a call into Dawn). */
  release(buffer: GPUBuffer, size: number): void {
    this.live -= size;
    this.liveCount--;
    this.pooled += size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    // Insert keeping the list sorted by serial descending (binary search: lists are short).
    const id = this.serial.get(buffer) ?? 0;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.serial.get(list[mid]!) ?? 0) > id) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, buffer);
  }

  /** Destroys every pooled (free) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooled = 0;
  }

  resetPeak(): void {
    this.peak = this.live;
  }

  stats(): PoolStats {
    return {
      liveBytes: this.live,
      liveBuffers: this.liveCount,
      pooledBytes: this.pooled,
      created: this.created,
      peakBytes: this.peak,
    };
  }
}
