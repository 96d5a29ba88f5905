/**
 * The shared WebAssembly memory the fast CPU kernels run in, and an allocator over it. Tensors
 * of the fast CPU backend live here when they fit, so a kernel reads its operands and writes
 * its result in place: copying a 768 x 50257 weight into the module for every decoded token
 * cost twice the product itself. The memory is shared, so worker threads run parts of one
 * kernel over the same bytes, and growing it never detaches the views already handed out.
 *
 * Blocks are recycled by size class (quarter powers of two, as the WebGPU buffer pool does):
 * a training step allocates the same sizes every step, so after the first step nothing grows.
 * Free blocks of other classes do not serve a request by themselves, so when the heap can give
 * a request nothing else (it is at its limit), the free blocks are coalesced: neighbours merge
 * into runs, a run that reaches the top of the heap goes back to it, and requests are carved
 * out of the runs. Without that, a model converted to 16 bits after a training step (its
 * activations freed, in classes the 16-bit weights do not use) was put outside the heap.
 * A wasm32 memory holds at most 4 GiB; a memory64 one (`addressing: 'memory64'`, where the
 * runtime has WebAssembly memory64: Node 24, not Node 20) 16 GiB, V8's limit. Tensors may fill
 * seven eighths of it; past that `allocate` returns null for them and the backend keeps the
 * tensor in an ordinary typed array, which a kernel copies in (its stored range) when it needs
 * it: the last eighth stays free for those copies and the kernels' packing buffers (GPT-2 XL's
 * largest matrix is 322 MB), so a model larger than a wasm32 heap (GPT-2 XL's 6 GB) still
 * runs there, with copies; in a memory64 heap it runs in place.
 */

import { type DType, type TypedArray, dtypeTable } from '../dtype.js';
import { AllocationError } from '../errors.js';

const PAGE = 65536;
/** How the heap is addressed: 32-bit (4 GiB at most) or WebAssembly memory64. */
export type HeapAddressing = 'wasm32' | 'memory64';
/** Pages of 64 KiB: wasm32's 4 GiB; memory64's 16 GiB (V8's limit for a memory64 memory). */
export const maxPages: Record<HeapAddressing, number> = { wasm32: 65536, memory64: 262144 };

/** Bytes tensors may fill in a heap of `pages` pages: seven eighths (the rest for copies and packing). */
/**
 * The error when the heap cannot hold `what` (`bytes` of it): one AllocationError for tensors,
 * matmul's operands and kernels' scratch; `op` names the kernel that needed it.
 */
export function noRoom(
  runtime: { readonly heap: WasmHeap },
  what: string,
  bytes: number,
  op?: string,
): AllocationError {
  const size = `${runtime.heap.limitBytes / 2 ** 30} GiB`;
  return new AllocationError(`${op ? `${op}: ` : ''}no room in the ${size} WebAssembly heap for ${what}`, bytes);
}

export function tensorLimitBytes(pages: number): number {
  return Math.floor(pages * 0.875) * PAGE;
}

/**
 * A shared WebAssembly memory of `initial` and at most `maximum` pages. memory64 takes its
 * sizes as BigInt (the JS API's `address: 'i64'`); a runtime without it throws here.
 */
export function createMemory(addressing: HeapAddressing, initial: number, maximum: number): WebAssembly.Memory {
  if (addressing === 'wasm32') return new WebAssembly.Memory({ initial, maximum, shared: true });
  const descriptor = { initial: BigInt(initial), maximum: BigInt(maximum), shared: true, address: 'i64' };
  return new WebAssembly.Memory(descriptor as unknown as WebAssembly.MemoryDescriptor);
}
/** The first page stays the modules' own (AssemblyScript's static data); pointer 0 means "none". */
const FIRST_BLOCK = PAGE;
/** Growing by at least this much keeps the number of grow calls (each a syscall) small. */
const MIN_GROW_PAGES = 256;

/** Bytes a request of `bytes` occupies: at least 256, else rounded up to a quarter power of two. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const quarter = 2 ** Math.floor(Math.log2(bytes - 1)) / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  private top = FIRST_BLOCK;
  private readonly free = new Map<number, number[]>();
  /** Free runs of any size, by address: made by coalesce(), carved by later requests. */
  private runs: { pointer: number; size: number }[] = [];
  /** Bytes in free blocks and runs (below top). */
  private freeBytes = 0;
  private view: ArrayBuffer | SharedArrayBuffer;

  private readonly maximumPages: number;

  /**
   * `addressing` must be one the runtime has (wasm-runtime.ts detects memory64);
   * `maximumPages` (64 KiB each) caps the heap below the addressing's limit: tests lower it to
   * exercise the fallback.
   */
  constructor(
    readonly addressing: HeapAddressing = 'wasm32',
    maximumPages?: number,
  ) {
    this.maximumPages = Math.min(maximumPages ?? maxPages[addressing], maxPages[addressing]);
    this.memory = createMemory(addressing, FIRST_BLOCK / PAGE, this.maximumPages);
    this.view = this.memory.buffer;
  }

  /** The most bytes the heap can grow to. */
  get limitBytes(): number {
    return this.maximumPages * PAGE;
  }

  /** The heap's limit in bytes for tensors (`allocate(bytes, true)`). */
  get tensorLimit(): number {
    return tensorLimitBytes(this.maximumPages);
  }

  /**
   * A block of at least `bytes` (64-byte aligned), or null when the memory cannot hold it;
   * for a tensor, null also when the heap would grow past `tensorLimit`.
   */
  allocate(bytes: number, forTensor = false): number | null {
    const size = sizeClass(bytes);
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) {
      this.freeBytes -= size;
      return reused;
    }
    const pointer = this.carve(size, forTensor) ?? this.bump(size, forTensor);
    if (pointer !== null || this.freeBytes < size) return pointer;
    this.coalesce();
    return this.carve(size, forTensor) ?? this.bump(size, forTensor);
  }

  /** `size` bytes from the first free run that holds them (for a tensor: below tensorLimit). */
  private carve(size: number, forTensor: boolean): number | null {
    const i = this.runs.findIndex((r) => r.size >= size && (!forTensor || r.pointer + size <= this.tensorLimit));
    if (i < 0) return null;
    const run = this.runs[i]!;
    const pointer = run.pointer;
    if (run.size === size) this.runs.splice(i, 1);
    else this.runs[i] = { pointer: pointer + size, size: run.size - size };
    this.freeBytes -= size;
    return pointer;
  }

  /**
   * Every free block and run, merged with its free neighbours into runs (by address); a run
   * that ends at the top lowers the top. Rare: only when a request found nothing else.
   */
  private coalesce(): void {
    const blocks = this.runs;
    for (const [size, list] of this.free) for (const pointer of list) blocks.push({ pointer, size });
    this.free.clear();
    blocks.sort((a, b) => a.pointer - b.pointer);
    const merged: { pointer: number; size: number }[] = [];
    for (const b of blocks) {
      const last = merged.at(-1);
      if (last && last.pointer + last.size === b.pointer) last.size += b.size;
      else merged.push({ ...b });
    }
    const highest = merged.at(-1);
    if (highest && highest.pointer + highest.size === this.top) {
      this.top = highest.pointer;
      this.freeBytes -= highest.size;
      merged.pop();
    }
    this.runs = merged;
  }

  /** `size` bytes at the top, growing the memory if it must; null past the limits. */
  private bump(size: number, forTensor: boolean): number | null {
    const end = this.top + size;
    if (forTensor && end > this.tensorLimit) return null;
    if (end > this.memory.buffer.byteLength) {
      const have = this.memory.buffer.byteLength / PAGE;
      const need = Math.ceil(end / PAGE) - have;
      const maximum = this.maximumPages;
      if (have + need > maximum) return null;
      try {
        const pages = Math.min(Math.max(need, MIN_GROW_PAGES), maximum - have);
        // memory64 counts pages in BigInt.
        (this.memory.grow as (delta: number | bigint) => unknown)(
          this.addressing === 'memory64' ? BigInt(pages) : pages,
        );
      } catch {
        return null; // the system refused the memory: the caller falls back to a typed array
      }
    }
    const pointer = this.top;
    this.top = end;
    return pointer;
  }

  /** Returns a block from `allocate(bytes)` for reuse. */
  release(pointer: number, bytes: number): void {
    const size = sizeClass(bytes);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(pointer);
    this.freeBytes += size;
  }

  /** Bytes in freed blocks, ready for reuse (below the high-water mark). */
  get freeBytesHeld(): number {
    return this.freeBytes;
  }

  /** Memory in use by blocks and free lists (the high-water mark of the heap). */
  get reservedBytes(): number {
    return this.top;
  }

  float32(pointer: number, length: number): Float32Array {
    return new Float32Array(this.buffer(), pointer, length);
  }

  /** A typed array of `dtype` over `length` elements at `pointer` (raw bits for 16-bit floats). */
  array(dtype: DType, pointer: number, length: number): TypedArray {
    return new dtypeTable[dtype].array(this.buffer() as ArrayBuffer, pointer, length);
  }

  /** The memory's current buffer (a new object after every grow). */
  buffer(): ArrayBuffer | SharedArrayBuffer {
    if (this.view.byteLength !== this.memory.buffer.byteLength) this.view = this.memory.buffer;
    return this.view;
  }
}
