// The CPU reference kernels against values worked out by hand or by formula: they are the
// oracle for every other backend, so they are checked from the maths, not from a kernel.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor';
import { expectAllClose } from '../helpers/allclose.js';

const close = { atol: 1e-6, rtol: 1e-6 };

describe('CPU reference kernels', () => {
  it('GELU (tanh approximation) at known points', async () => {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) evaluated in float64 by hand.
    const x = T.tensor([-3, -1, 0, 0.5, 2], { dtype: 'float64' });
    const expected = [-3, -1, 0, 0.5, 2].map(
      (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    );
    expectAllClose(await T.gelu(x).toArray(), expected, { atol: 0, rtol: 1e-15 });
    expectAllClose(await T.gelu(T.tensor([1])).toArray(), [0.8411920070648193], close);
  });

  it('GELU backward is the derivative (central differences in float64)', async () => {
    const xs = [-2.5, -0.3, 0, 0.7, 3];
    const h = 1e-6;
    const numeric = xs.map((v) => {
      const g = (u: number) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));
      return (g(v + h) - g(v - h)) / (2 * h);
    });
    const dx = T.geluBackward(T.tensor(xs, { dtype: 'float64' }), T.ones([5], { dtype: 'float64' }));
    expectAllClose(await dx.toArray(), numeric, { atol: 1e-9, rtol: 1e-8 });
  });

  it('matmul, with transposes and bias', async () => {
    const a = T.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const b = T.tensor([
      [1, 0, 2],
      [0, 1, 3],
    ]);
    expect(await T.matmul(a, b).toNested()).toEqual([
      [1, 2, 8],
      [3, 4, 18],
      [5, 6, 28],
    ]);
    expect(await T.matmul(b, a, { transA: true, transB: true }).toNested()).toEqual([
      [1, 3, 5],
      [2, 4, 6],
      [8, 18, 28],
    ]);
    expect(await T.matmul(a, b, { bias: T.tensor([1, 1, 1]) }).toNested()).toEqual([
      [2, 3, 9],
      [4, 5, 19],
      [6, 7, 29],
    ]);
  });

  it('reductions along axes, keepDims, all elements, first argmax on ties', async () => {
    const x = T.tensor([
      [1, 5, 5],
      [7, 2, 0],
    ]);
    expect(await T.sum(x, 0).toNested()).toEqual([8, 7, 5]);
    expect(await T.mean(x, 1, { keepDims: true }).toNested()).toEqual([[11 / 3], [3]].map(([v]) => [Math.fround(v!)]));
    expect(await T.max(x, 1).toNested()).toEqual([5, 7]);
    expect(await T.argmax(x, 1).toNested()).toEqual([1, 0]);
    expect(await T.sum(x).item()).toBe(20);
    expect(await T.sum(x, [0, 1]).item()).toBe(20);
    expect(await T.sumTo(T.ones([4, 2, 3]), [2, 1]).toNested()).toEqual([[12], [12]]);
  });

  it('softmax: rows sum to 1, the causal mask zeroes future keys, KV-cache offsets', async () => {
    const x = T.tensor(
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      { dtype: 'float64' },
    );
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    expectAllClose(await T.softmax(x).toArray(), [e[0]! / s, e[1]! / s, e[2]! / s, 1 / 3, 1 / 3, 1 / 3], {
      atol: 0,
      rtol: 1e-15,
    });
    const causal = await T.softmax(T.zeros([3, 3], { dtype: 'float64' }), { causal: true }).toNested();
    expect(causal).toEqual([
      [1, 0, 0],
      [0.5, 0.5, 0],
      [1 / 3, 1 / 3, 1 / 3],
    ]);
    // 2 new queries against 4 keys: they see 3 and 4 keys.
    const cached = await T.softmax(T.zeros([2, 4], { dtype: 'float64' }), { causal: true }).toNested();
    expect(cached).toEqual([
      [1 / 3, 1 / 3, 1 / 3, 0],
      [0.25, 0.25, 0.25, 0.25],
    ]);
  });

  it('layer norm: zero mean, unit (biased) variance, then weight and bias', async () => {
    const r = T.layerNorm(
      T.tensor([[1, 2, 3, 4]], { dtype: 'float64' }),
      T.tensor([1, 1, 2, 2], { dtype: 'float64' }),
      T.tensor([0, 0, 0, 1], { dtype: 'float64' }),
      0,
    );
    const rstd = 1 / Math.sqrt(1.25);
    expectAllClose(await r.out.toArray(), [-1.5 * rstd, -0.5 * rstd, 2 * 0.5 * rstd, 2 * 1.5 * rstd + 1], {
      atol: 1e-15,
      rtol: 1e-14,
    });
    expect(await r.mean.item()).toBe(2.5);
    expect(await r.rstd.item()).toBeCloseTo(rstd, 14);
  });

  it('cross-entropy: mean of logsumexp - logit[target] over counted rows', async () => {
    const logits = T.tensor(
      [
        [0, 0],
        [2, 0],
        [5, 5],
      ],
      { dtype: 'float64' },
    );
    const targets = T.tensor([0, 1, -100], { dtype: 'int32' });
    const r = T.crossEntropy(logits, targets);
    const expected = (Math.log(2) + (Math.log(Math.exp(2) + 1) - 0)) / 2;
    expect(await r.loss.item()).toBeCloseTo(expected, 14);
    expect(await r.count.item()).toBe(2);
    const d = (await T.crossEntropyBackward(
      logits,
      targets,
      r,
      T.tensor(1, { dtype: 'float64' }),
    ).toNested()) as number[][];
    const p = Math.exp(2) / (Math.exp(2) + 1);
    expectAllClose(d.flat(), [-0.25, 0.25, p / 2, (1 - p) / 2 - 0.5, 0, 0], { atol: 1e-15, rtol: 1e-14 });
  });

  it('embedding gather and scatter-add with a repeated id', async () => {
    const table = T.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ids = T.tensor(
      [
        [2, 0],
        [2, 2],
      ],
      { dtype: 'int32' },
    );
    expect(await T.embedding(table, ids).toNested()).toEqual([
      [
        [5, 6],
        [1, 2],
      ],
      [
        [5, 6],
        [5, 6],
      ],
    ]);
    const d = T.embeddingBackward(T.ones([2, 2, 2]), ids, 3);
    expect(await d.toNested()).toEqual([
      [1, 1],
      [0, 0],
      [3, 3],
    ]);
  });

  it('dropout keeps about 1 - p, scales by 1 / (1 - p), and p = 0 / 1 are identity / zeros', async () => {
    const x = T.ones([10000]);
    const out = Array.from(await T.dropout(x, 0.25, new T.Generator(2)).out.toArray());
    const kept = out.filter((v) => v !== 0);
    expect(Math.abs(kept.length / 10000 - 0.75)).toBeLessThan(0.02);
    expect(kept.every((v) => v === Math.fround(1 / 0.75))).toBe(true);
    expect(Array.from(await T.dropout(x, 0).out.toArray()).every((v) => v === 1)).toBe(true);
    expect(Array.from(await T.dropout(x, 1).out.toArray()).every((v) => v === 0)).toBe(true);
    expect(() => T.dropout(x, 1.5)).toThrow(/p must be in \[0, 1\]/);
  });

  it('the same dropout mask applied to the gradient drops the same elements', async () => {
    const r = T.dropout(T.ones([1000]), 0.5, new T.Generator(11));
    const back = T.applyDropoutMask(T.full([1000], 3), r.mask);
    const f = await r.out.toArray();
    const b = await back.toArray();
    for (let i = 0; i < 1000; i++) expect(b[i] === 0).toBe(f[i] === 0);
  });

  it('AdamW matches torch.optim.AdamW for two steps (values computed by hand)', async () => {
    // One parameter p0 = 1, gradients 0.5 then -0.25, lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.1.
    const param = T.tensor([1], { dtype: 'float64' });
    const m = T.zeros([1], { dtype: 'float64' });
    const v = T.zeros([1], { dtype: 'float64' });
    const hyper = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
    let p = 1,
      mm = 0,
      vv = 0;
    for (const [step, g] of [
      [1, 0.5],
      [2, -0.25],
    ] as const) {
      T.adamwUpdate(param, T.tensor([g], { dtype: 'float64' }), m, v, { ...hyper, step });
      p *= 1 - 0.1 * 0.1;
      mm = 0.9 * mm + 0.1 * g;
      vv = 0.999 * vv + 0.001 * g * g;
      p -= ((0.1 / (1 - 0.9 ** step)) * mm) / (Math.sqrt(vv) / Math.sqrt(1 - 0.999 ** step) + 1e-8);
    }
    expect(await param.item()).toBeCloseTo(p, 14);
    expect(await m.item()).toBeCloseTo(mm, 15);
  });
});
