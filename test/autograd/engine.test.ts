// The backward engine: accumulation, non-scalar outputs, noGrad, detach, non-differentiable
// ops, and memory freed as the backward pass goes.
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor';

const p = (values: number[]) => A.parameter(T.tensor(values));

describe('backward', () => {
  it('a value used twice gets both contributions (d(x*x)/dx = 2x)', async () => {
    const x = p([1, -2, 3]);
    A.sum(A.mul(x, x)).backward();
    expect(Array.from(await x.grad!.toArray())).toEqual([2, -4, 6]);
  });

  it('gradients accumulate across backward calls until zeroGrad', async () => {
    const x = p([1, 2]);
    A.sum(A.mulScalar(x, 3)).backward();
    A.sum(A.mulScalar(x, 3)).backward();
    expect(Array.from(await x.grad!.toArray())).toEqual([6, 6]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  it('a non-scalar output needs an upstream gradient of its shape', async () => {
    const x = p([1, 2, 3]);
    const y = A.mulScalar(x, 2);
    expect(() => y.backward()).toThrow(/a gradient is needed for a non-scalar output of shape \[3\]/);
    expect(() => y.backward(T.ones([2]))).toThrow(/gradient shape \[2\] differs from the output's \[3\]/);
    y.backward(T.tensor([1, 0, -1]));
    expect(Array.from(await x.grad!.toArray())).toEqual([2, 0, -2]);
  });

  it('noGrad records nothing; detach cuts the graph; constants get no gradient', async () => {
    const x = p([1, 2]);
    const y = A.noGrad(() => A.exp(x));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    const c = A.constant(T.tensor([5, 5]));
    const z = A.sum(A.mul(x.detach(), c));
    expect(z.requiresGrad).toBe(false);
    const w = A.sum(A.mul(x, c));
    w.backward();
    expect(c.grad).toBeNull();
    expect(Array.from(await x.grad!.toArray())).toEqual([5, 5]);
  });

  it('non-differentiable ops cut the graph and backward says which op did', () => {
    const x = p([1, 5, 2]);
    const idx = A.argmax(A.mulScalar(x, 2), 0);
    expect(idx.requiresGrad).toBe(false);
    expect(() => idx.backward()).toThrow(/computed by argmax, which is not differentiable/);
    expect(() => A.gt(x, x).backward(T.ones([3]))).toThrow(/computed by gt/);
  });

  it('frees intermediate gradients and saved caches as it goes', () => {
    const backend = T.cpu.backend;
    const n = 10_000; // 40 kB per float32 tensor
    const x = p(Array.from({ length: n }, (_, i) => Math.sin(i)));
    T.tidy(() => {
      let h = x;
      const norm = A.layerNorm(A.reshape(h, [100, 100]), A.constant(T.ones([100])), A.constant(T.zeros([100])));
      h = A.reshape(norm, [n]);
      for (let i = 0; i < 20; i++) h = A.tanh(A.mulScalar(h, 1.01)); // 40 activations of n floats
      const loss = A.sum(h);
      const forwardBytes = backend.liveBytes();
      backend.resetPeakBytes();
      loss.backward();
      const backwardExtra = backend.peakBytes() - forwardBytes;
      // Holding every intermediate gradient would add ~40 x 40 kB; going node by node needs a few.
      expect(backwardExtra).toBeLessThan(8 * 4 * n);
      expect(norm.node!.saved.every((t) => t.isDisposed)).toBe(true);
    });
    expect(x.grad).not.toBeNull();
    expect(x.grad!.isDisposed).toBe(false); // leaf gradients survive the enclosing tidy
  });
});
