// The fast CPU heap's allocator: blocks recycled by size class, and, when the heap is at its
// limit, free blocks of other classes coalesced and carved (a 16-bit copy of a model made after
// a training step was put outside the heap before: its classes were not the step's).
import { describe, expect, it } from 'vitest';
import { WasmHeap, sizeClass } from '../../packages/tensor/src/cpu-fast/wasm-heap.js';

const PAGE = 65536;
/** A size that is its own size class (6 x 2^15): 18 of them fill a 64-page heap's tensor space. */
const B = 196_608;

/** `n` blocks of B bytes, every one in the heap. */
function fill(heap: WasmHeap, n: number): number[] {
  const blocks = Array.from({ length: n }, () => heap.allocate(B, true));
  expect(blocks.every((p) => p !== null)).toBe(true);
  return blocks as number[];
}

/** Live blocks must never overlap, and all must lie inside the memory. */
function expectDisjoint(live: Map<number, number>, heap: WasmHeap) {
  const spans = [...live]
    .map(([pointer, bytes]) => [pointer, pointer + sizeClass(bytes)] as const)
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++)
    expect(spans[i]![0], `block at ${spans[i]![0]} overlaps the one before`).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  for (const [, end] of spans) expect(end).toBeLessThanOrEqual(heap.memory.buffer.byteLength);
}

describe('WasmHeap', () => {
  it('reuses a freed block of the same size class, and grows only past them', () => {
    const heap = new WasmHeap('wasm32', 64);
    const a = heap.allocate(1000)!;
    const top = heap.reservedBytes;
    heap.release(a, 1000);
    expect(heap.freeBytesHeld).toBe(sizeClass(1000));
    expect(heap.allocate(990)).toBe(a); // the same class
    expect(heap.reservedBytes).toBe(top);
    expect(heap.freeBytesHeld).toBe(0);
  });

  it('at its limit, serves a request from freed blocks of other classes (coalesced), and not before', () => {
    const heap = new WasmHeap('wasm32', 64); // 4 MiB, tensors up to 3.5 MiB
    const small = fill(heap, 12);
    const topBefore = heap.reservedBytes;
    for (const p of small.slice(2, 11)) heap.release(p, B); // 9 neighbours: 1.77 MB free
    // A class none of them has, larger than one of them: nothing fits at the top (3.5 MiB limit).
    const big = heap.allocate(1_500_000, true);
    expect(big).toBe(small[2]); // carved from the merged run, at its start
    expect(heap.reservedBytes).toBe(topBefore); // nothing grew
    const live = new Map<number, number>([
      [big!, 1_500_000],
      [small[0]!, B],
      [small[1]!, B],
      [small[11]!, B],
    ]);
    expectDisjoint(live, heap);
    // The run's rest serves another request of another class.
    const rest = heap.allocate(50_000, true)!;
    expect(rest).toBe(big! + sizeClass(1_500_000));
    live.set(rest, 50_000);
    expectDisjoint(live, heap);
  });

  it('a free run that reaches the top goes back to the top', () => {
    const heap = new WasmHeap('wasm32', 64);
    const blocks = fill(heap, 18);
    for (const p of blocks.slice(4)) heap.release(p, B);
    const big = heap.allocate(2_600_000, true)!; // the freed 14 blocks (2.75 MB) merged, then given back to the top
    expect(big).toBe(blocks[4]);
    expect(heap.reservedBytes).toBe(blocks[4]! + sizeClass(2_600_000));
    expect(heap.freeBytesHeld).toBe(0);
  });

  it('returns null when even the coalesced free memory cannot hold a request', () => {
    const heap = new WasmHeap('wasm32', 64);
    const blocks = fill(heap, 18);
    for (const p of blocks.filter((_, i) => i % 2 === 0)) heap.release(p, B); // free, but no two adjacent, and not the top one
    expect(heap.allocate(400_000, true)).toBeNull();
    expect(heap.allocate(100_000, true)).not.toBeNull(); // a smaller one is carved from a freed block
  });

  it('random requests and releases at the limit never hand out overlapping blocks', () => {
    const heap = new WasmHeap('wasm32', 128);
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const live = new Map<number, number>();
    let nulls = 0;
    for (let i = 0; i < 3000; i++) {
      if (live.size > 0 && random() < 0.45) {
        const keys = [...live.keys()];
        const pointer = keys[Math.floor(random() * keys.length)]!;
        heap.release(pointer, live.get(pointer)!);
        live.delete(pointer);
      } else {
        const bytes = 1 + Math.floor(random() ** 3 * 1_500_000);
        const pointer = heap.allocate(bytes, random() < 0.8);
        if (pointer === null) nulls++;
        else {
          expect(pointer % 64).toBe(0);
          expect(live.has(pointer)).toBe(false);
          live.set(pointer, bytes);
        }
      }
      if (i % 50 === 0) expectDisjoint(live, heap);
    }
    expectDisjoint(live, heap);
    expect(nulls).toBeGreaterThan(0); // the test did reach the limit
    expect(heap.memory.buffer.byteLength).toBeLessThanOrEqual(128 * PAGE);
  });
});
