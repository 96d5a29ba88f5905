/** The candidates of top-k sampling, selected where the scores are (a GPU reads back a few bytes). */
import { ShapeError, formatShape } from '../errors.js';
import { type Tensor, empty } from '../tensor.js';
import { assertFloat, assertRankAtLeast, withContiguous } from './util.js';

/** Ids are stored as floats: exact up to 2^24 (GPT-2's vocabulary is 50,257). */
export const TOP_K_MAX_ROW = 2 ** 24;

/**
 * The top-k candidates of each row of `scores` (..., n), float32 (or float64 on a CPU device):
 * every score `>=` the row's k-th largest (k clamped to n; ties at the k-th value all kept, -0
 * equal to +0), in index order, the cut of top-k sampling (packages/gpt/src/generate.ts
 * sampleNext). Returns (..., 1 + 2 * capacity) in scores' dtype, per row `[count, ids, values]`:
 * `count` the number of candidates, which may exceed `capacity` (only the first `capacity` are
 * written), or -1 when the row holds a NaN or an infinity (no candidate written); then
 * `capacity` ids (integers as floats) and `capacity` scores (the input's values, bit for bit);
 * unused slots hold id -1 and score -Infinity. One row reads back as 4 (1 + 2 capacity) bytes
 * instead of 4n. Read it with `unpackTopKCandidates`.
 * @throws RangeError when k or capacity is not an integer >= 1, or n exceeds TOP_K_MAX_ROW
 * @throws DTypeError for int32 or 16-bit scores
 */
export function topKCandidates(scores: Tensor, k: number, capacity = k): Tensor {
  assertFloat('topKCandidates', scores);
  assertRankAtLeast('topKCandidates', 'scores', scores, 1);
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`topKCandidates: k must be an integer >= 1, got ${k}`);
  if (!(Number.isInteger(capacity) && capacity >= 1))
    throw new RangeError(`topKCandidates: capacity must be an integer >= 1, got ${capacity}`);
  const n = scores.shape[scores.rank - 1]!;
  if (n > TOP_K_MAX_ROW)
    throw new RangeError(`topKCandidates: rows of ${n} scores exceed ${TOP_K_MAX_ROW} (ids are stored as floats)`);
  if (n === 0) throw new ShapeError(`topKCandidates: empty rows in ${formatShape(scores.shape)}`);
  const rows = scores.size / n;
  const out = empty([...scores.shape.slice(0, -1), 1 + 2 * capacity], scores.dtype, scores.device);
  if (rows === 0) return out;
  withContiguous([scores], (c) => scores.device.backend.kernels.topKCandidates(c!, out, rows, n, k, capacity));
  return out;
}

/** One row of `topKCandidates`, read back: the candidates' ids and scores (count of each), or null. */
export interface TopKRow {
  /** Candidates (may exceed ids.length when ties overflowed the capacity); -1 for a non-finite row. */
  readonly count: number;
  /** The first min(count, capacity) candidates' ids, in index order. */
  readonly ids: Int32Array;
  /** Their scores. */
  readonly scores: Float32Array | Float64Array;
}

/** Splits `topKCandidates`' output, read to the host, into its rows. */
export function unpackTopKCandidates(data: Float32Array | Float64Array, capacity: number): TopKRow[] {
  const width = 1 + 2 * capacity;
  const rows: TopKRow[] = [];
  for (let o = 0; o < data.length; o += width) {
    const count = data[o]!;
    const kept = Math.max(0, Math.min(count, capacity));
    rows.push({
      count,
      ids: Int32Array.from(data.subarray(o + 1, o + 1 + kept)),
      scores: data.slice(o + 1 + capacity, o + 1 + capacity + kept),
    });
  }
  return rows;
}
