// Fused attention on every device against the unfused composition on the CPU reference (the
// oracle: matmul, mulScalar, causal softmax, dropout, matmul), forward and the gradients of q, k
// and v, on awkward shapes: one token, B nh = 1, T not a multiple of any tile, head sizes not
// multiples of 4, fewer queries than keys (a KV-cache offset), not causal, and dropout on (the
// same mask from the same generator, so the two paths drop the same weights).
// q, k, v are permuted views of a (B, T, nh, hd) layout, as the model's are.
// Tolerance: float32 both sides, different summation orders and exp: 2e-5 absolute + 1e-4
// relative on outputs, 1e-4 + 1e-3 on gradients (sums over up to 130 keys of products).
// WebGPU's forward takes three kernels by shape (Tq <= 4: split-K decode; hd <= 128: one row a
// thread; else the tiled kernel): the cases cover each.
// Exclusions: none (the reference CPU's fused kernel is checked against its unfused path too).
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as G from '@mini/gpt';
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
  { B: 1, nh: 1, Tq: 1, Tk: 1, hd: 4 },
  { B: 2, nh: 3, Tq: 17, Tk: 17, hd: 5 },
  { B: 1, nh: 2, Tq: 3, Tk: 11, hd: 7 },
  { B: 1, nh: 1, Tq: 1, Tk: 9, hd: 16 },
  { B: 1, nh: 1, Tq: 70, Tk: 70, hd: 64 },
  { B: 2, nh: 2, Tq: 33, Tk: 33, hd: 12, dropout: 0.25 },
  { B: 1, nh: 3, Tq: 5, Tk: 130, hd: 3, dropout: 0.5 },
  { B: 1, nh: 2, Tq: 6, Tk: 9, hd: 6, causal: false },
  // Large enough for the fast CPU device to split both kernels over its threads (the others run on
  // one: packages/tensor/src/cpu-fast/attention.ts's PARALLEL_MIN): 12 blocks, 4 heads, 3 blocks a head.
  { B: 1, nh: 4, Tq: 130, Tk: 130, hd: 33, dropout: 0.1 },
  // Around WebGPU's one-row-a-thread forward (attention_flash.wgsl: 64 rows a workgroup, 32-key
  // tiles) at the model's head size, with and without dropout.
  { B: 1, nh: 2, Tq: 7, Tk: 7, hd: 64, dropout: 0.2 },
  { B: 1, nh: 1, Tq: 63, Tk: 63, hd: 64 },
  { B: 1, nh: 2, Tq: 65, Tk: 65, hd: 64, dropout: 0.1 },
  { B: 1, nh: 1, Tq: 256, Tk: 256, hd: 64, dropout: 0.1 },
  { B: 1, nh: 2, Tq: 257, Tk: 257, hd: 64 },
  { B: 1, nh: 1, Tq: 100, Tk: 257, hd: 128, dropout: 0.1 },
  { B: 1, nh: 1, Tq: 9, Tk: 9, hd: 130 },
];

const name = (c: Case) =>
  `B ${c.B} nh ${c.nh} Tq ${c.Tq} Tk ${c.Tk} hd ${c.hd}${c.causal === false ? ' not causal' : ''}${c.dropout ? ` dropout ${c.dropout}` : ''}`;

/** The output and the q, k, v gradients of one path on one device, from the same seeded inputs. */
async function run(device: Device, c: Case, fused: boolean): Promise<Float32Array[]> {
  const g = new T.Generator(7);
  const heads = (Tn: number) => Float32Array.from(g.normal(c.B * Tn * c.nh * c.hd));
  const [qv, kv, vv] = [heads(c.Tq), heads(c.Tk), heads(c.Tk)];
  const dout = Float32Array.from(g.normal(c.B * c.nh * c.Tq * c.hd));
  const results = T.tidy(() => {
    const leaf = (values: Float32Array, Tn: number) =>
      A.parameter(T.tensor(values, { shape: [c.B, Tn, c.nh, c.hd], device }));
    const [q0, k0, v0] = [leaf(qv, c.Tq), leaf(kv, c.Tk), leaf(vv, c.Tk)];
    const [q, k, v] = [q0, k0, v0].map((x) => A.permute(x, [0, 2, 1, 3])) as [A.Variable, A.Variable, A.Variable]; // (B, nh, T, hd)
    const causal = c.causal ?? true;
    const generator = new T.Generator(3);
    let y: A.Variable;
    if (fused) {
      y = A.attention(q, k, v, { causal, dropout: c.dropout ?? 0, generator });
    } else {
      const scores = A.mulScalar(A.matmul(q, k, { transB: true }), 1 / Math.sqrt(c.hd)); // (B, nh, Tq, Tk)
      y = A.matmul(A.dropout(A.softmax(scores, { causal }), c.dropout ?? 0, generator), v);
    }
    y.backward(T.tensor(dout, { shape: y.shape, device }));
    return [y.data, q0.grad!, k0.grad!, v0.grad!];
  });
  const arrays = await Promise.all(results.map((t) => t.toArray() as Promise<Float32Array>));
  for (const t of results) t.dispose();
  return arrays;
}

describe.each(devices)('fused attention on $name matches the unfused path on the CPU reference', ({ device }) => {
  for (const c of cases) {
    it(name(c), async () => {
      const expected = await run(T.cpu, c, false);
      const actual = await run(device, c, true);
      expectAllClose(actual[0]!, expected[0]!, { atol: 2e-5, rtol: 1e-4 }, 'output');
      ['q', 'k', 'v'].forEach((x, i) =>
        expectAllClose(actual[i + 1]!, expected[i + 1]!, { atol: 1e-4, rtol: 1e-3 }, `gradient of ${x}`),
      );
    });
  }

  it('never allocates the (B, nh, T, T) weights: peak bytes stay below them', () => {
    const [B, nh, Tn, hd] = [1, 2, 512, 8];
    const weightsBytes = B * nh * Tn * Tn * 4;
    T.tidy(() => {
      const g = new T.Generator(1);
      const [q, k, v] = [0, 1, 2].map(() => A.parameter(T.randn([B, nh, Tn, hd], { device, generator: g })));
      const backend = device.backend;
      backend.flush();
      backend.resetPeakBytes();
      const before = backend.liveBytes();
      const y = A.attention(q!, k!, v!, { dropout: 0.1, generator: g });
      y.backward(T.ones(y.shape, { device }));
      expect(backend.peakBytes() - before).toBeLessThan(weightsBytes / 4);
    });
  });
});

// attentionQKV: q, k, v as views of one (B, T, 3 nh hd) projection and one gradient for it,
// against the unfused path on the CPU reference (slices, reshapes, permutes, then matmul, scale,
// softmax, dropout, matmul: the zero-filled slice gradients added up), and against the same
// device's fused attention on copied-out heads (the same kernels on the same values: equal bit for
// bit, the old path's adds being of zeros).
interface QKVCase {
  B: number;
  nh: number;
  T: number;
  hd: number;
  dropout?: number;
}

const qkvCases: QKVCase[] = [
  { B: 1, nh: 1, T: 1, hd: 64 },
  { B: 2, nh: 12, T: 5, hd: 64, dropout: 0.1 },
  { B: 1, nh: 1, T: 63, hd: 7 },
  { B: 1, nh: 12, T: 65, hd: 64, dropout: 0.1 },
  { B: 2, nh: 3, T: 65, hd: 7, dropout: 0.1 },
  { B: 1, nh: 1, T: 256, hd: 7 },
  { B: 1, nh: 12, T: 256, hd: 64, dropout: 0.1 },
];

type QKVPath = 'fused qkv' | 'fused heads' | 'unfused';

/** The output and qkv's gradient of one path from the same seeded inputs. */
async function runQKV(device: Device, c: QKVCase, path: QKVPath): Promise<Float32Array[]> {
  const C = c.nh * c.hd;
  const g = new T.Generator(11);
  const values = Float32Array.from(g.normal(c.B * c.T * 3 * C));
  const dout = Float32Array.from(g.normal(c.B * c.nh * c.T * c.hd));
  const results = T.tidy(() => {
    const qkv = A.parameter(T.tensor(values, { shape: [c.B, c.T, 3 * C], device }));
    const generator = new T.Generator(3);
    const dropout = c.dropout ?? 0;
    let y: A.Variable;
    if (path === 'fused qkv') y = A.attentionQKV(qkv, c.nh, { dropout, generator });
    else {
      const head = (i: number) =>
        A.permute(A.reshape(A.slice(qkv, 2, i * C, (i + 1) * C), [c.B, c.T, c.nh, c.hd]), [0, 2, 1, 3]);
      const [q, k, v] = [head(0), head(1), head(2)];
      if (path === 'fused heads') y = A.attention(q, k, v, { dropout, generator });
      else {
        const scores = A.mulScalar(A.matmul(q, k, { transB: true }), 1 / Math.sqrt(c.hd));
        y = A.matmul(A.dropout(A.softmax(scores, { causal: true }), dropout, generator), v);
      }
    }
    y.backward(T.tensor(dout, { shape: y.shape, device }));
    return [y.data, qkv.grad!];
  });
  const arrays = await Promise.all(results.map((t) => t.toArray() as Promise<Float32Array>));
  for (const t of results) t.dispose();
  return arrays;
}

describe.each(devices)('attentionQKV on $name: dq, dk, dv straight into the qkv gradient', ({ device }) => {
  for (const c of qkvCases) {
    it(`B ${c.B} nh ${c.nh} T ${c.T} hd ${c.hd}${c.dropout ? ` dropout ${c.dropout}` : ''}`, async () => {
      const expected = await runQKV(T.cpu, c, 'unfused');
      const actual = await runQKV(device, c, 'fused qkv');
      expectAllClose(actual[0]!, expected[0]!, { atol: 2e-5, rtol: 1e-4 }, 'output');
      expectAllClose(actual[1]!, expected[1]!, { atol: 1e-4, rtol: 1e-3 }, 'gradient of qkv');
      const heads = await runQKV(device, c, 'fused heads');
      expectAllClose(actual[1]!, heads[1]!, { atol: 0, rtol: 0 }, 'gradient of qkv (copied-out heads)');
    });
  }
});

/** Loss and every parameter's gradient of one training step of the tiny model, dropout on. */
async function trainStep(device: Device, fused: boolean): Promise<number[][]> {
  const model = G.GPTModel.create(
    G.resolveConfig('tiny', { vocabSize: 100, contextLength: 24, nHeads: 4, embedDim: 20 }),
    { device, seed: 4 },
  ).train();
  model.fusedAttention = fused;
  const g = new T.Generator(9);
  const ids = Array.from({ length: 2 * 23 }, () => Math.floor(g.uniform(1)[0]! * 100));
  const inputs = T.tensor(ids, { dtype: 'int32', shape: [2, 23], device });
  const targets = T.tensor(
    ids.map((x) => (x + 1) % 100),
    { dtype: 'int32', shape: [2, 23], device },
  );
  const loss = T.tidy(() => {
    const l = G.batchLoss(model, { inputs, targets });
    l.backward();
    return l.data;
  });
  const out = [[await loss.item()]];
  for (const p of model.params.values()) out.push(Array.from(await p.grad!.toArray()));
  for (const t of [loss, inputs, targets]) t.dispose();
  model.dispose();
  return out;
}

/** Greedy tokens from a prompt, with and without the KV cache. */
async function decode(device: Device, fused: boolean, useCache: boolean): Promise<number[]> {
  const model = G.GPTModel.create(
    G.resolveConfig('tiny', { vocabSize: 100, contextLength: 24, nHeads: 4, embedDim: 20 }),
    { device, seed: 2 },
  ).eval();
  model.fusedAttention = fused;
  const tokens = await G.generate(model, [5, 17, 42, 8, 99], { maxNewTokens: 12, temperature: 0, useCache });
  model.dispose();
  return tokens;
}

describe.each(devices)('the model on $name: fused attention as the unfused path', ({ device }) => {
  it('one training step with dropout 0.1: the same loss and gradients (the same masks dropped)', async () => {
    const [fused, unfused] = [await trainStep(device, true), await trainStep(device, false)];
    expect(fused.length).toBe(unfused.length);
    fused.forEach((f, i) =>
      expectAllClose(f, unfused[i]!, { atol: 2e-5, rtol: 1e-4 }, i === 0 ? 'loss' : `gradient ${i}`),
    );
  });

  it('greedy decoding with the KV cache (Tq = 1 < Tk) and without it: the same tokens', async () => {
    const reference = await decode(device, false, false);
    expect(await decode(device, true, true)).toEqual(reference);
    expect(await decode(device, true, false)).toEqual(reference);
  });
});
