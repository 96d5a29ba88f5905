// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Embedding rows by token id, and the backward's scatter-add. The ids (int32) are copied into
// the heap and checked against V by the caller (packages/tensor/src/cpu-fast/embedding.ts).
// The scatter-add is split by columns, not rows: repeated ids then never have two threads
// adding into the same element.
import { loadTail, storeTail } from './simd-math';

/** out[i, :] = table[ids[i], :] for rows [first, first + count). */
export function gatherRows(table: usize, ids: usize, out: usize, first: i32, count: i32, C: i32): void {
  const rowBytes = <usize>C << 2;
  for (let i = first; i < first + count; i++) {
    memory.copy(out + <usize>i * rowBytes, table + <usize>load<i32>(ids + (<usize>i << 2)) * rowBytes, rowBytes);
  }
}

/** dtable[ids[i], c] += dout[i, c] for every row i and columns [c0, c0 + width). */
export function scatterAddColumns(dout: usize, ids: usize, dtable: usize, N: i32, C: i32, c0: i32, width: i32): void {
  const w4 = width & ~3;
  for (let i = 0; i < N; i++) {
    const src = dout + (<usize>(i * C + c0) << 2);
    const dst = dtable + (<usize>(load<i32>(ids + (<usize>i << 2)) * C + c0) << 2);
    for (let c = 0; c < w4; c += 4) {
      const at = <usize>c << 2;
      v128.store(dst + at, f32x4.add(v128.load(dst + at), v128.load(src + at)));
    }
    if (w4 < width) {
      const at = <usize>w4 << 2;
      storeTail(dst + at, f32x4.add(loadTail(dst + at, width - w4), loadTail(src + at, width - w4)), width - w4);
    }
  }
}
