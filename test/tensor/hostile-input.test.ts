// Bad input from untyped callers: one clear MiniGptError naming the problem and the value, on
// both CPU backends, never a TypeError from inside, a wasm read past a buffer or a wrong result.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';

// biome-ignore lint/suspicious/noExplicitAny: the point is input the types would refuse
const any = (v: unknown): any => v;

describe.each(await devicesUnderTest())('hostile input on $name', ({ device }) => {
  const o = { device };

  it('every shape is checked in one place: safe integers >= 0 filling the data', () => {
    const data = new Float32Array(6);
    expect(() => T.tensor(data, { ...o, shape: [-2, -3] })).toThrow(T.ShapeError);
    expect(() => T.tensor(data, { ...o, shape: [-2, -3] })).toThrow(
      /tensor: invalid shape \[-2, -3\]: dimensions must be integers >= 0/,
    );
    expect(() => T.tensor(new Float32Array(1), { ...o, shape: [2 ** 31, 2 ** -31] })).toThrow(/invalid shape/);
    expect(() => T.tensor([1, 2, 3, 4, 5, 6], { ...o, shape: [2.5, 2.4] })).toThrow(/invalid shape \[2.5, 2.4\]/);
    expect(() => T.fromTypedArray(data, [2, 3.5], device)).toThrow(/invalid shape \[2, 3.5\]/);
    expect(() => T.tensor(data, { ...o, shape: [4, 2] })).toThrow(/6 values do not fill shape \[4, 2\]/);
    expect(() => T.ones([1, 3], o).expand([2.5, 3])).toThrow(/expand: invalid shape \[2.5, 3\]/);
    expect(() => T.ones([1, 3], o).expand([-1, 3])).toThrow(/expand: invalid shape \[-1, 3\]/);
    expect(() => T.zeros([2 ** 53, 2], o)).toThrow(/full: invalid shape/);
    expect(() => T.zeros(any(['3']), o)).toThrow(/full: invalid shape \["3"\]: dimensions must be integers >= 0/);
    expect(() => T.zeros(any(3), o)).toThrow(/full: the shape must be an array of integers >= 0, got 3/);
    expect(() => T.randn(any([2, null]), o)).toThrow(/randn: invalid shape \[2, null\]/);
    expect(() => T.ones([6], o).reshape(any(6))).toThrow(/reshape: the shape must be an array/);
    expect(() => T.ones([6], o).reshape([1.5, 4])).toThrow(/cannot reshape \[6\] \(6 elements\) to \[1.5, 4\]/);
    // A good shape still works, and so does reshape's -1.
    expect(T.tensor(data, { ...o, shape: [2, 3] }).reshape([3, -1]).shape).toEqual([3, 2]);
  });

  it("backward kernels check their caches' shapes like their inputs", () => {
    const x = T.randn([64, 8], o);
    const w = T.ones([8], o);
    const small = T.layerNorm(T.randn([2, 8], o), w, T.zeros([8], o));
    const lnb = (mean: T.Tensor, rstd: T.Tensor, weight = w) =>
      T.layerNormBackward(T.ones([64, 8], o), x, weight, mean, rstd);
    const full = T.layerNorm(x, w, T.zeros([8], o));
    expect(() => lnb(small.mean, full.rstd)).toThrow(/layerNormBackward: mean must have shape \[64\], got \[2\]/);
    expect(() => lnb(full.mean, small.rstd)).toThrow(/layerNormBackward: rstd must have shape \[64\], got \[2\]/);
    expect(() => lnb(full.mean, full.rstd, T.ones([3], o))).toThrow(/weight must have shape \[8\], got \[3\]/);
    expect(lnb(full.mean, full.rstd).dx.shape).toEqual([64, 8]);

    const logits = T.randn([64, 5], o);
    const targets = T.zeros([64], { ...o, dtype: 'int32' });
    const cache = T.crossEntropy(T.randn([2, 5], o), T.zeros([2], { ...o, dtype: 'int32' }));
    const dloss = T.ones([], o);
    expect(() => T.crossEntropyBackward(logits, targets, cache, dloss)).toThrow(
      /crossEntropyBackward: cache.logsumexp must have shape \[64\], got \[2\]/,
    );
    const ok = T.crossEntropy(logits, targets);
    expect(() => T.crossEntropyBackward(logits, targets, { ...ok, count: T.ones([1], o) }, dloss)).toThrow(
      /cache.count must have shape \[\], got \[1\]/,
    );
    expect(() => T.crossEntropyBackward(logits, T.zeros([64], o), ok, dloss)).toThrow(/targets must be int32/);
    expect(T.crossEntropyBackward(logits, targets, ok, dloss).shape).toEqual([64, 5]);
  });

  it('int32 data that does not fit and random bounds out of range are refused', () => {
    const int32 = { ...o, dtype: 'int32' } as const;
    const range = /not an integer in int32's range \[-2147483648, 2147483647\]/;
    expect(() => T.tensor([2 ** 31, 3e10], int32)).toThrow(T.ValueError);
    expect(() => T.tensor([2 ** 31, 3e10], int32)).toThrow(/tensor: element 0 is 2147483648, not an integer/);
    expect(() => T.tensor([0, -(2 ** 31) - 1], int32)).toThrow(range);
    expect(() => T.tensor(new Float64Array([1, 1.5]), int32)).toThrow(/element 1 is 1.5/);
    expect(() => T.full([2], 1.5, int32)).toThrow(/full: the value is 1.5, not an integer/);
    expect(() => T.full([2], 2 ** 31, int32)).toThrow(range);
    expect(() => T.full([2], any('1'), o)).toThrow(/full: the value must be a number, got 1/);
    expect(() => T.randint(0, 2 ** 32, [4], o)).toThrow(/randint: need integers low < high within int32/);
    expect(() => T.randint(-(2 ** 40), -(2 ** 40) + 5, [4], o)).toThrow(T.ValueError);
    expect(() => T.randint(3, 3, [4], o)).toThrow(/got \[3, 3\)/);
    expect(() => T.rand([2], { ...o, low: 1, high: 0 })).toThrow(/rand: low 1 is above high 0/);
    expect(() => T.rand([2], { ...o, high: Number.POSITIVE_INFINITY })).toThrow(/high must be a finite number/);
    expect(() => T.randn([2], { ...o, std: -1 })).toThrow(/randn: std must be >= 0, got -1/);
    expect(() => T.randn([2], { ...o, mean: Number.NaN })).toThrow(/mean must be a finite number, got NaN/);
  });

  it('int32 data at the edges of the range and randint over all of it still work', async () => {
    const edges = [-(2 ** 31), 2 ** 31 - 1];
    expect(Array.from(await T.tensor(edges, { ...o, dtype: 'int32' }).toArray())).toEqual(edges);
    const all = await T.randint(-(2 ** 31), 2 ** 31, [64], { ...o, generator: new T.Generator(1) }).toArray();
    expect(all.some((v) => v < 0) && all.some((v) => v > 0)).toBe(true);
  });
});
