// WebGPU embedding gather, scatter-add (with repeated ids), dropout and AdamW against the CPU
// reference, and the random-number parity they rely on.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

const EXACT = { atol: 0, rtol: 0 };

describe.runIf(gpu)('WebGPU embedding matches the CPU reference', () => {
  it('gather rows, 1-D and 2-D ids, with repeats', async () => {
    await expectParity(
      gpu!,
      (device, g) =>
        T.embedding(T.randn([50, 33], { device, generator: g }), T.randint(0, 50, [2, 70], { device, generator: g })),
      EXACT,
      'gather',
    );
    await expectParity(
      gpu!,
      (device, g) => T.embedding(T.randn([1, 1], { device, generator: g }), T.tensor([0], { device, dtype: 'int32' })),
      EXACT,
      'gather 1x1',
    );
  });
  it('scatter-add sums repeated ids', async () => {
    // Sums of up to ~10 repeats in a fixed order: float32 rounding only.
    await expectParity(
      gpu!,
      (device, g) => {
        const ids = T.tensor([3, 1, 3, 3, 0, 1, 9, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2], { device, dtype: 'int32' });
        return T.embeddingBackward(T.randn([17, 300], { device, generator: g }), ids, 10);
      },
      { atol: 1e-6, rtol: 1e-6 },
      'scatter-add',
    );
  });
});

describe.runIf(gpu)('WebGPU dropout and AdamW match the CPU reference', () => {
  it('dropout draws the same mask on both devices (Threefry parity)', async () => {
    for (const [shape, p] of [
      [[1], 0.5],
      [[3, 1001], 0.1],
      [[513], 0.9],
      [[64], 0],
      [[64], 1],
    ] as const) {
      // x * (1 / (1 - p)): the reciprocal rounds once more on the GPU.
      await expectParity(
        gpu!,
        (device, g) => T.dropout(T.randn([...shape], { device, generator: g }), p, g).out,
        { atol: 0, rtol: 3e-7 },
        `dropout ${shape} p=${p}`,
      );
    }
  });
  it('dropout drops about p of the elements', async () => {
    const x = T.ones([20000], { device: gpu! });
    const out = await T.dropout(x, 0.3, new T.Generator(5)).out.toArray();
    const dropped = out.filter((v) => v === 0).length / out.length;
    expect(dropped).toBeGreaterThan(0.28);
    expect(dropped).toBeLessThan(0.32);
    expect(out.find((v) => v !== 0)).toBeCloseTo(1 / 0.7, 6);
  });
  it('three AdamW steps', async () => {
    await expectParity(
      gpu!,
      (device, g) => {
        const param = T.randn([3, 333], { device, generator: g });
        const m = T.zeros([3, 333], { device });
        const v = T.zeros([3, 333], { device });
        for (let step = 1; step <= 3; step++) {
          const grad = T.randn([3, 333], { device, generator: g });
          T.adamwUpdate(param, grad, m, v, { lr: 4e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step });
        }
        return [param, m, v];
      },
      { atol: 1e-7, rtol: 2e-6 },
      'adamw',
    );
  });
});
