// A training-shaped loop of 1,000 steps on WebGPU: forward, backward kernels and AdamW inside
// tidy(). The buffer pool's live bytes must not grow and no buffer may be created after warm-up.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

interface PoolStats {
  liveBytes: number;
  created: number;
}

describe.runIf(gpu)('WebGPU memory', () => {
  it('stays flat over 1,000 training-like steps', async () => {
    const device = gpu!;
    const stats = () => (device.backend as unknown as { poolStats(): PoolStats }).poolStats();
    const g = new T.Generator(3);
    const w = T.randn([16, 8], { device, generator: g, std: 0.1 });
    const m = T.zeros([16, 8], { device });
    const v = T.zeros([16, 8], { device });
    const x = T.randn([4, 16], { device, generator: g });
    const targets = T.tensor([1, 5, 7, 0], { device, dtype: 'int32' });
    const step = (t: number) =>
      T.tidy(() => {
        const h = T.gelu(T.matmul(x, w)); // (4, 8)
        const ce = T.crossEntropy(h, targets);
        const dh = T.crossEntropyBackward(h, targets, ce, T.ones([], { device }));
        const dpre = T.geluBackward(T.matmul(x, w), dh);
        const dw = T.matmul(x, dpre, { transA: true }); // (16, 8)
        T.adamwUpdate(w, dw, m, v, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: t });
        return ce.loss;
      });
    let first = 0;
    const samples: number[] = [];
    let createdAfterWarmup = 0;
    for (let t = 1; t <= 1000; t++) {
      const loss = step(t);
      if (t === 1) first = await loss.item();
      if (t === 10) createdAfterWarmup = stats().created;
      if (t % 100 === 0) {
        expect(Number.isFinite(await loss.item())).toBe(true);
        samples.push(stats().liveBytes);
      }
      loss.dispose();
    }
    const last = await T.tidy(() => T.crossEntropy(T.gelu(T.matmul(x, w)), targets).loss).item();
    expect(last).toBeLessThan(first); // the loop really trained
    expect(new Set(samples).size, `live bytes per 100 steps: ${samples.join(', ')}`).toBe(1);
    expect(stats().created, 'buffers created after step 10').toBe(createdAfterWarmup);
  });
});
