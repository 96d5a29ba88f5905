// Broadcasting rules and the errors users see: each names the op and the shapes involved.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor';

describe('broadcasting', () => {
  it('follows NumPy: align from the right, size 1 stretches', () => {
    expect(T.broadcastShapes([4, 1, 5], [3, 1], 'add')).toEqual([4, 3, 5]);
    expect(T.broadcastShapes([], [2, 3], 'add')).toEqual([2, 3]);
    expect(T.broadcastShapes([0, 1], [1, 7], 'add')).toEqual([0, 7]);
  });

  it('computes broadcast binary ops on the CPU', async () => {
    const a = T.tensor([[1], [2], [3]]);
    const b = T.tensor([10, 20]);
    expect(await T.add(a, b).toNested()).toEqual([
      [11, 21],
      [12, 22],
      [13, 23],
    ]);
    expect(await T.sub(b, 1).toNested()).toEqual([9, 19]);
    expect(await T.div(T.tensor([3, 6]), T.tensor([3])).toNested()).toEqual([1, 2]);
  });

  it('rejects shapes that do not broadcast, naming the op and both shapes', () => {
    expect(() => T.add(T.zeros([2, 3]), T.zeros([4, 3]))).toThrow(/add: shapes \[2, 3\] and \[4, 3\] do not broadcast/);
    expect(() => T.mul(T.zeros([5]), T.zeros([2, 4]))).toThrow(/mul: shapes \[5\] and \[2, 4\]/);
  });
});

describe('errors', () => {
  it('matmul names both shapes when inner dimensions differ', () => {
    expect(() => T.matmul(T.zeros([2, 3]), T.zeros([4, 5]))).toThrow(
      /matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\] \(3 vs 4\)/,
    );
    expect(() => T.matmul(T.zeros([3]), T.zeros([3, 1]))).toThrow(/at least 2 dimensions, got \[3\] and \[3, 1\]/);
    expect(() => T.matmul(T.zeros([2, 3]), T.zeros([3, 4]), { bias: T.zeros([5]) })).toThrow(
      /bias must have shape \[4\], got \[5\]/,
    );
  });

  it('dtype errors name the op, the dtype and the shape', () => {
    expect(() => T.exp(T.zeros([2], { dtype: 'int32' }))).toThrow(
      /exp: expected a float tensor, got int32 of shape \[2\]/,
    );
    expect(() => T.embedding(T.zeros([4, 2]), T.zeros([3]))).toThrow(
      /embedding: ids must be int32, got float32 of shape \[3\]/,
    );
    expect(() => T.add(T.zeros([2]), T.zeros([2], { dtype: 'float64' }))).toThrow(
      /add: dtypes differ \(float32 and float64\)/,
    );
  });

  it('layer norm, cross-entropy and softmax check their shapes', () => {
    expect(() => T.layerNorm(T.zeros([2, 4]), T.ones([3]), T.zeros([4]))).toThrow(
      /layerNorm: weight must have shape \[4\], got \[3\]/,
    );
    expect(() => T.crossEntropy(T.zeros([2, 5]), T.zeros([3], { dtype: 'int32' }))).toThrow(
      /targets \[3\] must be the logits' shape \[2, 5\] without its last/,
    );
    expect(() => T.softmax(T.zeros([5, 3]), { causal: true })).toThrow(/more queries than keys in \[5, 3\]/);
  });

  it('a disposed tensor cannot be used', () => {
    const x = T.zeros([2]);
    x.dispose();
    expect(() => T.exp(x)).toThrow(/used after dispose\(\)/);
  });

  it('unknown devices are rejected with the names that work', async () => {
    await expect(T.getDevice({ kind: 'tpu' })).rejects.toThrow(/unknown device "tpu": use auto, cpu or webgpu/);
  });

  it('a device choice is parsed in one place: auto, cpu, webgpu and nothing else', () => {
    expect(T.deviceChoices).toEqual(['auto', 'cpu', 'webgpu']);
    for (const c of T.deviceChoices) expect(T.parseDeviceChoice(c)).toBe(c);
    for (const bad of ['tpu', 'CPU', '', null, undefined]) expect(T.parseDeviceChoice(bad)).toBeUndefined();
  });

  it('a new device kind registers without editing a union, and getDevice opens it by name', async () => {
    T.registerDeviceKind('cpu-reference', async () => T.cpu);
    expect(await T.getDevice('cpu-reference')).toBe(T.cpu);
    await expect(T.getDevice('tpu')).rejects.toThrow(/use auto, cpu, webgpu or cpu-reference/);
    expect(() => T.registerDeviceKind('auto', async () => T.cpu)).toThrow(/"auto" is not a device kind/);
  });

  it('ids and targets out of range throw on the CPU, naming the position', () => {
    expect(() => T.embedding(T.zeros([4, 2]), T.tensor([1, 4], { dtype: 'int32' }))).toThrow(
      /id 4 at position 1 is outside the table's 4 rows/,
    );
    expect(() => T.crossEntropy(T.zeros([2, 5]), T.tensor([0, 7], { dtype: 'int32' }))).toThrow(
      /target 7 at row 1 is outside \[0, 5\)/,
    );
  });
});
