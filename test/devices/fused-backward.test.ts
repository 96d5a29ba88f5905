// Two fusions of the training step's backward, on every device:
// - layerNormBackward with `accumulate`: dx = accumulate + the layer norm's dx (the residual
//   stream's two gradients meeting), against add(accumulate, dx) on the same device (bit for bit
//   on the CPU devices, which compose that add) and against the CPU reference on awkward shapes
//   (partial column blocks, C not a multiple of 4, one row);
// - matmul with `columnSums`: x^T @ g and g's column sums (a linear layer's weight and bias
//   gradients) in one product, against T.sum(g, 0) (bit for bit on the CPU devices) and the CPU
//   reference on shapes that do and do not divide the tiles, M <= 4 (matvec), a long K;
// and through autograd: the same gradients as before the fusion. On WebGPU the dispatch counts
// show the fused kernels ran (no add, no reduction).
// Tolerances (float32 both sides): layer norm 1e-5 + 1e-5 relative (row-kernels.test.ts);
// column sums in float32 on WebGPU over up to 3000 rows of N(0, 1): 2e-4 + 2e-5 relative.
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor/node';
import type { Device, Generator } from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const devices = await devicesUnderTest();
const NORM = { atol: 1e-5, rtol: 1e-5 };
const SUMS = { atol: 2e-4, rtol: 2e-5 };
const randn = (shape: number[], device: Device, g: Generator, std = 1) => T.randn(shape, { device, generator: g, std });

/** Dispatches `fn` records on a WebGPU device (null elsewhere). */
function dispatchesOf(device: Device, fn: () => void): number | null {
  const backend = device.backend as { counters?: { dispatches: number } };
  if (device.kind !== 'webgpu' || !backend.counters) {
    fn();
    return null;
  }
  const before = backend.counters.dispatches;
  fn();
  return backend.counters.dispatches - before;
}

const LN_SHAPES = [
  [1, 4],
  [2, 1],
  [3, 6],
  [33, 65],
  [97, 130],
  [1000, 7],
  [5, 768],
];

describe.each(devices)('layerNormBackward with accumulate on $name', ({ device }) => {
  it('equals add(accumulate, dx) on the same device', async () => {
    for (const [N, C] of LN_SHAPES) {
      const g = new T.Generator(11);
      const x = randn([N!, C!], device, g, 3);
      const w = randn([C!], device, g);
      const { mean, rstd } = T.layerNorm(x, w, randn([C!], device, g));
      const dy = randn([N!, C!], device, g);
      const acc = randn([N!, C!], device, g);
      const plainCount = dispatchesOf(device, () => T.layerNormBackward(dy, x, w, mean, rstd));
      const fusedCount = dispatchesOf(device, () => T.layerNormBackward(dy, x, w, mean, rstd, { accumulate: acc }));
      expect(fusedCount, 'the add runs in the backward kernel').toBe(plainCount);
      const plain = T.layerNormBackward(dy, x, w, mean, rstd);
      const unfused = T.add(acc, plain.dx);
      const fused = T.layerNormBackward(dy, x, w, mean, rstd, { accumulate: acc });
      const [want, got] = [await unfused.toArray(), await fused.dx.toArray()];
      if (device.kind === 'cpu') expect([...got], `${N}x${C}`).toEqual([...want]);
      else
        got.forEach((v, i) =>
          expect(Math.abs(v - want[i]!), `${N}x${C} [${i}]`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want[i]!))),
        );
      expect([...(await fused.dweight.toArray())]).toEqual([...(await plain.dweight.toArray())]);
      expect([...(await fused.dbias.toArray())]).toEqual([...(await plain.dbias.toArray())]);
    }
  });

  it.runIf(!devices.find((d) => d.device === device)?.isReference)('matches the CPU reference', async () => {
    for (const [N, C] of LN_SHAPES) {
      await expectParity(
        device,
        (dev, g) => {
          const x = T.add(randn([N!, C!], dev, g, 3), 0.5);
          const w = randn([C!], dev, g);
          const { mean, rstd } = T.layerNorm(x, w, randn([C!], dev, g), 1e-5);
          const accumulate = randn([N!, C!], dev, g);
          const r = T.layerNormBackward(randn([N!, C!], dev, g), x, w, mean, rstd, { accumulate });
          return [r.dx, r.dweight, r.dbias];
        },
        NORM,
        `layerNormBackward accumulate ${N}x${C}`,
      );
    }
  });

  it('autograd: x + layerNorm(x) gives x the sum of its two gradients', async () => {
    const g = new T.Generator(4);
    const values = [randn([2, 9, 24], device, g), randn([24], device, g), randn([24], device, g)];
    const dy = randn([2, 9, 24], device, g);
    // The add's gradient for x is gathered first, then added in the layer norm's backward.
    const [x, w, b] = values.map((v) => A.parameter(v));
    A.add(x!, A.layerNorm(x!, w!, b!)).backward(dy);
    const [x2, w2, b2] = values.map((v) => A.parameter(v));
    A.layerNorm(x2!, w2!, b2!).backward(dy);
    const [want, got] = [await T.add(dy, x2!.grad!).toArray(), await x!.grad!.toArray()];
    if (device.kind === 'cpu') expect([...got]).toEqual([...want]);
    else got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want[i]!))));
    expect([...(await w!.grad!.toArray())]).toEqual([...(await w2!.grad!.toArray())]);
    expect([...(await b!.grad!.toArray())]).toEqual([...(await b2!.grad!.toArray())]);
  });

  it('rejects an accumulate of another shape', () => {
    const x = T.zeros([2, 3], { device });
    const w = T.ones([3], { device });
    const { mean, rstd } = T.layerNorm(x, w, T.zeros([3], { device }));
    expect(() => T.layerNormBackward(x, x, w, mean, rstd, { accumulate: T.zeros([3, 2], { device }) })).toThrow(
      /layerNormBackward: accumulate must have shape \[2, 3\], got \[3, 2\]/,
    );
  });
});

// (K rows of g and x, N columns of g, M columns of x): tiles divided or not, M <= 4, long K.
const MM_SHAPES = [
  [512, 768, 768],
  [33, 65, 70],
  [7, 5, 3],
  [100, 1, 9],
  [3000, 130, 2],
  [1, 3, 17],
];

describe.each(devices)('matmul with columnSums on $name', ({ device }) => {
  it('writes T.sum(g, 0) beside x^T @ g, and the same product', async () => {
    for (const [K, N, M] of MM_SHAPES) {
      const g = new T.Generator(21);
      const x = randn([K!, M!], device, g);
      const dy = randn([K!, N!], device, g);
      const sums = T.empty([N!], 'float32', device);
      const fusedCount = dispatchesOf(device, () => {
        T.matmul(x, dy, { transA: true, columnSums: sums }).dispose();
      });
      const product = T.matmul(x, dy, { transA: true, columnSums: sums });
      const plain = T.matmul(x, dy, { transA: true });
      const want = T.sum(dy, 0);
      expect([...(await product.toArray())], `product ${K}x${N}x${M}`).toEqual([...(await plain.toArray())]);
      const [got, ref] = [await sums.toArray(), await want.toArray()];
      if (device.kind === 'cpu') expect([...got], `sums ${K}x${N}x${M}`).toEqual([...ref]);
      else
        got.forEach((v, i) =>
          expect(Math.abs(v - ref[i]!), `sums ${K}x${N}x${M} [${i}]`).toBeLessThanOrEqual(
            SUMS.atol + SUMS.rtol * Math.abs(ref[i]!),
          ),
        );
      // The tiled kernel writes the sums itself (M > 4): the product's dispatch only.
      if (fusedCount !== null && M! > 4) {
        const plainCount = dispatchesOf(device, () => T.matmul(x, dy, { transA: true }).dispose());
        expect(fusedCount, `dispatches ${K}x${N}x${M}`).toBe(plainCount);
      }
    }
  });

  it.runIf(!devices.find((d) => d.device === device)?.isReference)('matches the CPU reference', async () => {
    for (const [K, N, M] of MM_SHAPES) {
      await expectParity(
        device,
        (dev, g) => {
          const x = randn([K!, M!], dev, g);
          const dy = randn([K!, N!], dev, g);
          const sums = T.empty([N!], 'float32', dev);
          return [T.matmul(x, dy, { transA: true, columnSums: sums }), sums];
        },
        SUMS,
        `matmul columnSums ${K}x${N}x${M}`,
      );
    }
  });

  it('autograd: a linear layer gets the same bias gradient as sumTo (bit for bit on the CPU devices)', async () => {
    const g = new T.Generator(8);
    const xv = randn([2, 37, 20], device, g);
    const wv = randn([20, 70], device, g);
    const bv = randn([70], device, g);
    const dy = randn([2, 37, 70], device, g);
    const [x, w, b] = [xv, wv, bv].map((v) => A.parameter(v));
    A.matmul(x!, w!, { bias: b }).backward(dy);
    const want = await T.sumTo(dy, [70]).toArray();
    const got = await b!.grad!.toArray();
    if (device.kind === 'cpu') expect([...got]).toEqual([...want]);
    else
      got.forEach((v, i) =>
        expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(SUMS.atol + SUMS.rtol * Math.abs(want[i]!)),
      );
    const dw = await T.matmul(xv.reshape([-1, 20]), dy.reshape([-1, 70]), { transA: true }).toArray();
    expect([...(await w!.grad!.toArray())]).toEqual([...dw]);
  });

  it('rejects a transposed or batched b, and sums of the wrong shape', () => {
    const a = T.zeros([4, 3], { device });
    const b = T.zeros([4, 5], { device });
    expect(() => T.matmul(a, b, { transA: true, columnSums: T.empty([4], 'float32', device) })).toThrow(
      /matmul: columnSums must have shape \[5\], got \[4\]/,
    );
    expect(() => T.matmul(b, b, { transB: true, columnSums: T.empty([4], 'float32', device) })).toThrow(
      /columnSums needs a contiguous 2-D float b without transB/,
    );
    expect(() =>
      T.matmul(T.zeros([2, 4, 3], { device }).transpose(), T.zeros([2, 4, 5], { device }), {
        columnSums: T.empty([5], 'float32', device),
      }),
    ).toThrow(/columnSums needs a contiguous 2-D float b/);
  });
});
