// Views share storage without copying; contiguous() copies only when needed.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor';

const range = (shape: number[]) =>
  T.arange(
    0,
    shape.reduce((p, d) => p * d, 1),
    1,
    { dtype: 'float32' },
  ).reshape(shape);

describe('views', () => {
  it('reshape keeps storage and order, infers -1, and rejects a wrong size naming both shapes', async () => {
    const x = range([2, 3, 4]);
    const y = x.reshape([4, -1]);
    expect(y.shape).toEqual([4, 6]);
    expect(y.storage).toBe(x.storage);
    expect(Array.from(await y.toArray())).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(() => x.reshape([5, 5])).toThrow(/reshape: cannot reshape \[2, 3, 4\] \(24 elements\) to \[5, 5\]/);
    expect(() => x.reshape([-1, -1])).toThrow(T.ShapeError);
  });

  it('permute and transpose reorder without copying', async () => {
    const x = range([2, 3, 4]);
    const p = x.permute([2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.strides).toEqual([1, 12, 4]);
    expect(p.storage).toBe(x.storage);
    expect(p.isContiguous()).toBe(false);
    // element (k, i, j) of p is x[i, j, k] = 12 i + 4 j + k
    const values = await p.toArray();
    expect(values[1 * 6 + 1 * 3 + 2]).toBe(12 * 1 + 4 * 2 + 1);
    expect(await x.transpose().toNested()).toEqual(await x.permute([0, 2, 1]).toNested());
    expect(() => x.permute([0, 0, 1])).toThrow(/not a permutation/);
  });

  it('slice along an axis, with negative indices, shares storage', async () => {
    const x = range([4, 5]);
    const s = x.slice(1, 1, -1);
    expect(s.shape).toEqual([4, 3]);
    expect(s.storage).toBe(x.storage);
    expect(await s.toNested()).toEqual([
      [1, 2, 3],
      [6, 7, 8],
      [11, 12, 13],
      [16, 17, 18],
    ]);
    expect(await x.slice(0, -1).toNested()).toEqual([[15, 16, 17, 18, 19]]);
    expect(x.slice(0, 3, 2).shape).toEqual([0, 5]);
  });

  it('expand broadcasts with stride 0 and rejects a non-1 dimension', async () => {
    const x = T.tensor([[1], [2]]);
    const e = x.expand([3, 2, 4]);
    expect(e.strides).toEqual([0, 1, 0]);
    expect(await e.toNested()).toEqual([
      [
        [1, 1, 1, 1],
        [2, 2, 2, 2],
      ],
      [
        [1, 1, 1, 1],
        [2, 2, 2, 2],
      ],
      [
        [1, 1, 1, 1],
        [2, 2, 2, 2],
      ],
    ]);
    expect(() => x.expand([3, 4])).toThrow(/cannot expand \[2, 1\] to \[3, 4\]/);
  });

  it('contiguous copies a permuted view and returns a view of a contiguous one', async () => {
    const x = range([3, 4]);
    const c = x.transpose().contiguous();
    expect(c.isContiguous()).toBe(true);
    expect(c.storage).not.toBe(x.storage);
    expect(await c.toNested()).toEqual([
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 10],
      [3, 7, 11],
    ]);
    expect(x.contiguous().storage).toBe(x.storage);
    // reshape of a non-contiguous view copies (as torch.reshape does)
    expect(await x.transpose().reshape([12]).toArray()).toEqual(
      Float32Array.from([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]),
    );
  });

  it('copyInto writes into a slice in place, broadcasting the source', async () => {
    const x = T.zeros([3, 4]);
    const middle = x.slice(1, 1, 3);
    T.copyInto(
      middle,
      T.tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    );
    expect(await x.toNested()).toEqual([
      [0, 1, 2, 0],
      [0, 3, 4, 0],
      [0, 5, 6, 0],
    ]);
    T.copyInto(x.slice(0, 0, 1), T.tensor([9]));
    expect(((await x.toNested()) as number[][])[0]).toEqual([9, 9, 9, 9]);
    expect(() => T.copyInto(T.zeros([1]).expand([3]), T.ones([3]))).toThrow(/expanded view/);
  });

  it('unsqueeze adds a size-1 dimension', async () => {
    const x = range([2, 3]);
    expect(x.unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(x.unsqueeze(-1).shape).toEqual([2, 3, 1]);
    expect(await x.unsqueeze(1).toNested()).toEqual([[[0, 1, 2]], [[3, 4, 5]]]);
  });

  it('item reads a single element and refuses more', async () => {
    expect(await T.tensor(3.5).item()).toBe(3.5);
    await expect(T.tensor([1, 2]).item()).rejects.toThrow(/item: tensor of shape \[2\] has 2 elements/);
  });
});

describe('creation', () => {
  it('zeros, ones, full, arange and nested arrays', async () => {
    expect(Array.from(await T.zeros([2, 2]).toArray())).toEqual([0, 0, 0, 0]);
    expect(Array.from(await T.ones([3]).toArray())).toEqual([1, 1, 1]);
    expect(Array.from(await T.full([2], 7, { dtype: 'int32' }).toArray())).toEqual([7, 7]);
    const a = T.arange(2, 11, 3);
    expect(a.dtype).toBe('int32');
    expect(Array.from(await a.toArray())).toEqual([2, 5, 8]);
    expect(Array.from(await T.arange(0, 1, 0.25).toArray())).toEqual([0, 0.25, 0.5, 0.75]);
    const n = T.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(n.shape).toEqual([2, 3]);
    expect(n.dtype).toBe('float32');
    expect(() => T.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => T.tensor([1.5], { dtype: 'int32' })).toThrow(/not an integer/);
    expect(() => T.zeros([2, -1])).toThrow(/invalid shape \[2, -1\]/);
  });

  it('float64 tensors exist on the CPU (the gradient-check oracle)', async () => {
    const x = T.tensor([1, 2], { dtype: 'float64' });
    const y = T.mul(x, 1 / 3);
    expect((await y.toArray())[0]).toBe(1 / 3);
    expect(y.dtype).toBe('float64');
  });
});
