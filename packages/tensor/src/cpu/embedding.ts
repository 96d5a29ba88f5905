/** Reference embedding gather and its backward, scatter-add. */
import type { GatherArgs, ScatterAddArgs, View } from '../backend.js';
import { dataOf, valuesOf } from './storage.js';

/** The id at position i; outside [0, V) is a RangeError naming it. */
export function tokenId(ids: View, i: number, V: number): number {
  const id = dataOf(ids)[ids.offset + i]!;
  if (id < 0 || id >= V) throw new RangeError(`embedding: id ${id} at position ${i} is outside the table's ${V} rows`);
  return id;
}

/** A float16/bfloat16 table gives float32 rows (widened exactly). */
export function gather({ table, ids, out, N, V, C }: GatherArgs): void {
  const t = valuesOf(table);
  const o = dataOf(out);
  for (let i = 0; i < N; i++) {
    const row = tokenId(ids, i, V);
    for (let c = 0; c < C; c++) o[out.offset + i * C + c] = t[table.offset + row * C + c]!;
  }
}

export function scatterAdd({ dout, ids, dtable, N, V, C }: ScatterAddArgs): void {
  const g = dataOf(dout);
  const d = dataOf(dtable);
  for (let i = 0; i < N; i++) {
    const row = tokenId(ids, i, V);
    for (let c = 0; c < C; c++) d[dtable.offset + row * C + c]! += g[dout.offset + i * C + c]!;
  }
}
