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
  /** Bytes of freed buffers held back for a captured step (pin): not handed out until unpinned. */
  pinnedBytes: number;
}

export class BufferPool {
  /** Free buffers by size class, sorted by creation order descending (pop() gives the oldest). */
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly serial = new WeakMap<GPUBuffer, number>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private live = 0;
  private liveCount = 0;
  private pooled = 0;
  private created = 0;
  private peak = 0;
  /** Pins per buffer (a captured step's buffers, pin()): a release of one is held back. */
  private readonly pins = new Map<GPUBuffer, number>();
  /** Freed pinned buffers and their sizes: back to the free lists when their last pin goes. */
  private readonly held = new Map<GPUBuffer, number>();
  private heldBytes = 0;

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
      this.sizes.set(buffer, size);
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
    if (this.pins.has(buffer)) {
      this.held.set(buffer, size);
      this.heldBytes += size;
      return;
    }
    this.toFree(buffer, size);
  }

  /**
   * Pins buffers (a recording's, webgpu/capture.ts): while pinned, a buffer that is free or
   * freed later is held back, so no other tensor gets it and a replay finds it as it left it.
   * Buffers the pool did not make are ignored. Pins count: a buffer is handed out again after as
   * many unpin() calls as pin() calls.
   */
  pin(buffers: Iterable<GPUBuffer>): void {
    for (const buffer of buffers) {
      const size = this.sizes.get(buffer);
      if (size === undefined) continue;
      this.pins.set(buffer, (this.pins.get(buffer) ?? 0) + 1);
      const list = this.free.get(size);
      const at = list ? list.indexOf(buffer) : -1;
      if (at >= 0) {
        list!.splice(at, 1);
        this.pooled -= size;
        this.held.set(buffer, size);
        this.heldBytes += size;
      }
    }
  }

  /** Drops one pin of each buffer; a held buffer whose last pin goes returns to the free lists. */
  unpin(buffers: Iterable<GPUBuffer>): void {
    for (const buffer of buffers) {
      if (!this.pins.has(buffer)) continue;
      const n = this.pins.get(buffer)! - 1;
      if (n > 0) {
        this.pins.set(buffer, n);
        continue;
      }
      this.pins.delete(buffer);
      const size = this.held.get(buffer);
      if (size === undefined) continue;
      this.held.delete(buffer);
      this.heldBytes -= size;
      this.toFree(buffer, size);
    }
  }

  private toFree(buffer: GPUBuffer, size: number): void {
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
      pinnedBytes: this.heldBytes,
    };
  }
}
