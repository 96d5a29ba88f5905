/**
 * Reference matmul with a block-quantized weight (quantized.ts): each weight row is decoded to
 * float32 exactly (integer times float16 scale) and dotted with a's row in float64. The oracle
 * the fast kernels are tested against.
 */
import type { QuantMatmulArgs } from '../backend.js';
import { dequantizeRows } from '../quantized.js';
import { dataOf } from './storage.js';

export function matmulQuantized({ M, N, K, format, a, data, scales, bias, out }: QuantMatmulArgs): void {
  const da = dataOf(a);
  const words = dataOf(data) as Uint16Array;
  const bytes = new Uint8Array(words.buffer, words.byteOffset + 2 * data.offset, words.byteLength - 2 * data.offset);
  const s = (dataOf(scales) as Uint16Array).subarray(scales.offset);
  const dout = dataOf(out);
  const dbias = bias ? dataOf(bias) : null;
  const row = new Float32Array(K);
  for (let n = 0; n < N; n++) {
    dequantizeRows(format, bytes, s, K, n, 1, row);
    for (let m = 0; m < M; m++) {
      let sum = 0;
      const base = a.offset + m * K;
      for (let k = 0; k < K; k++) sum += da[base + k]! * row[k]!;
      dout[out.offset + m * N + n] = sum + (dbias ? dbias[bias!.offset + n]! : 0);
    }
  }
}
