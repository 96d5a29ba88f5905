/**
 * Byte-pair merging in O(n log n) for a piece of n bytes: the same merges as tiktoken's (the
 * adjacent pair of lowest rank first, the leftmost of equal ranks), found with a heap instead of
 * a scan of every pair per merge. js-tiktoken's scan is quadratic in the length of a pre-token,
 * and a run without spaces is one pre-token: 32,000 "=" took 47 s there.
 */

/** The byte strings' ranks as js-tiktoken keeps them: bytes joined by "," -> rank. */
export type RankMap = ReadonlyMap<string, number>;

/** A min-heap of [rank, left start, right start, right end] ordered by rank, then left start. */
class PairHeap {
  private items: number[][] = [];
  get size(): number {
    return this.items.length;
  }
  private less(a: number[], b: number[]): boolean {
    return a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!);
  }
  push(item: number[]): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  pop(): number[] {
    const h = this.items;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The token ids of one pre-token's bytes, merged as tiktoken merges them.
 * `maxTokenBytes` bounds the pairs looked up (no token is longer), so each lookup is O(1).
 */
export function bytePairEncode(piece: Uint8Array, ranks: RankMap, maxTokenBytes: number): number[] {
  const n = piece.length;
  if (n === 0) return [];
  const whole = ranks.get(piece.join(','));
  if (whole !== undefined) return [whole];
  // Parts are identified by their first byte: end[s] is one past their last, next/prev link them.
  const end = new Int32Array(n);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    end[i] = i + 1;
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const rankOf = (from: number, to: number): number | undefined =>
    to - from > maxTokenBytes ? undefined : ranks.get(piece.subarray(from, to).join(','));
  const heap = new PairHeap();
  const offer = (left: number) => {
    const right = next[left]!;
    if (left < 0 || right < 0) return;
    const rank = rankOf(left, end[right]!);
    if (rank !== undefined) heap.push([rank, left, right, end[right]!]);
  };
  for (let i = 0; i + 1 < n; i++) offer(i);
  const alive = new Uint8Array(n).fill(1);
  while (heap.size > 0) {
    const [, left, right, rightEnd] = heap.pop() as [number, number, number, number];
    // Stale: one of the two parts has merged with something else since the pair was offered.
    if (!alive[left] || !alive[right] || next[left] !== right || end[right] !== rightEnd) continue;
    end[left] = rightEnd;
    alive[right] = 0;
    next[left] = next[right]!;
    if (next[left]! >= 0) prev[next[left]!] = left;
    offer(left);
    if (prev[left]! >= 0) offer(prev[left]!);
  }
  const ids: number[] = [];
  for (let s = 0; s >= 0; s = next[s]!) {
    const id = ranks.get(piece.subarray(s, end[s]).join(','));
    if (id !== undefined) ids.push(id); // every single byte has a rank in GPT-2's table
  }
  return ids;
}
