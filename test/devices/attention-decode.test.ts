// Fused attention with few query rows (decoding against a KV cache: WebGPU runs these through the
// split-K kernel attention_decode.wgsl and its combine pass) on every device, against the unfused
// composition on the CPU reference (matmul, mulScalar, causal softmax, dropout, matmul; the log-
// sum-exp from the same scores). Cache lengths around the kernel's 64-key tiles and its chunking
// (1, 7, 63, 64, 65, 1000, 1024 keys: one chunk, one ragged tile, whole tiles, 16 chunks with a
// ragged last one), head sizes 64, 7 and 65 (more dims than the workgroup's 64 threads), Tq = 1
// to 4 and 5 (the first size past the decode kernel), dropout on (the same mask as the unfused
// path), not causal. k and v are slices of a (B, nh, maxT, hd) cache, q a permuted (B, Tq, nh,
// hd) view, as the model's are.
// Tolerance: float32 both sides, different summation orders and exp: 2e-5 absolute + 1e-4
// relative (sums over up to 1,024 keys of weights at most 1). Exclusions: none.
import { describe, it } from 'vitest';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor/node';
import type { Device } from '@mini/tensor/node';
import { expectAllClose } from '../helpers/allclose.js';
import { devicesUnderTest } from '../helpers/devices.js';

const devices = await devicesUnderTest();

interface Case {
  B: number;
  nh: number;
  Tq: number;
  Tk: number;
  hd: number;
  causal?: boolean;
  dropout?: number;
}

const cases: Case[] = [
  ...[1, 7, 63, 64, 65, 1000, 1024].map((Tk) => ({ B: 1, nh: 2, Tq: 1, Tk, hd: 64 })),
  { B: 2, nh: 3, Tq: 1, Tk: 1000, hd: 7 },
  { B: 1, nh: 1, Tq: 1, Tk: 130, hd: 65 },
  { B: 1, nh: 2, Tq: 2, Tk: 65, hd: 64 },
  { B: 1, nh: 12, Tq: 4, Tk: 1024, hd: 64 },
  { B: 1, nh: 2, Tq: 5, Tk: 200, hd: 64 },
  { B: 2, nh: 2, Tq: 3, Tk: 1000, hd: 16, dropout: 0.3 },
  { B: 1, nh: 2, Tq: 3, Tk: 70, hd: 8, causal: false },
];

const name = (c: Case) =>
  `B ${c.B} nh ${c.nh} Tq ${c.Tq} Tk ${c.Tk} hd ${c.hd}${c.causal === false ? ' not causal' : ''}${c.dropout ? ` dropout ${c.dropout}` : ''}`;

/** Output and lse of one path on one device from the same seeded inputs (fused: lse from the kernel; unfused: from the scores). */
async function run(device: Device, c: Case, fused: boolean): Promise<[Float32Array, Float32Array]> {
  const g = new T.Generator(11);
  const maxT = c.Tk + 9;
  const qv = Float32Array.from(g.normal(c.B * c.Tq * c.nh * c.hd));
  const [kv, vv] = [0, 1].map(() => Float32Array.from(g.normal(c.B * c.nh * maxT * c.hd)));
  const causal = c.causal ?? true;
  const generator = new T.Generator(5);
  const [out, lse] = T.tidy(() => {
    const q = A.permute(A.constant(T.tensor(qv, { shape: [c.B, c.Tq, c.nh, c.hd], device })), [0, 2, 1, 3]);
    const [k, v] = [kv!, vv!].map((x) =>
      A.constant(T.tensor(x, { shape: [c.B, c.nh, maxT, c.hd], device }).slice(2, 0, c.Tk)),
    ) as [A.Variable, A.Variable];
    if (fused) {
      const dropout = c.dropout ? T.drawDropoutMask(c.dropout, generator) : null;
      const r = T.attention(q.data, k.data, v.data, { causal, dropout });
      return [r.out, r.lse];
    }
    const scores = A.mulScalar(A.matmul(q, k, { transB: true }), 1 / Math.sqrt(c.hd)); // (B, nh, Tq, Tk)
    const y = A.matmul(A.dropout(A.softmax(scores, { causal }), c.dropout ?? 0, generator), v);
    return [y.data, scores.data.contiguous()];
  });
  const [o, l] = (await Promise.all([out.toArray(), lse.toArray()])) as [Float32Array, Float32Array];
  out.dispose();
  lse.dispose();
  if (fused) return [o, l];
  // log sum_j exp(s_ij) over the visible keys of each row, in float64.
  const rows = c.B * c.nh * c.Tq;
  const lses = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const i = r % c.Tq;
    const visible = causal ? i + c.Tk - c.Tq + 1 : c.Tk;
    let m = -Infinity;
    for (let j = 0; j < visible; j++) m = Math.max(m, l[r * c.Tk + j]!);
    let s = 0;
    for (let j = 0; j < visible; j++) s += Math.exp(l[r * c.Tk + j]! - m);
    lses[r] = m + Math.log(s);
  }
  return [o, lses];
}

describe.each(devices)('fused attention with few query rows (decoding) on $name', ({ device }) => {
  for (const c of cases) {
    it(`${name(c)}: the unfused path's output and log-sum-exp on the CPU reference`, async () => {
      const [expectedOut, expectedLse] = await run(T.cpu, c, false);
      const [out, lse] = await run(device, c, true);
      expectAllClose(out, expectedOut, { atol: 2e-5, rtol: 1e-4 }, 'output');
      expectAllClose(lse, expectedLse, { atol: 2e-5, rtol: 1e-4 }, 'log-sum-exp');
    });
  }
});
