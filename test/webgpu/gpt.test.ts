// The GPT-2 model on WebGPU against the CPU reference: logits, loss and every parameter
// gradient of a tiny model, and KV-cached decoding.
// Tolerance: 1e-4 absolute + 1e-4 relative: float32 through two blocks and a 50257-wide head.
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';
import { expectAllClose } from '../helpers/allclose.js';
import { webgpuForTests } from '../helpers/devices.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

// A 2000-token vocabulary keeps the software adapters fast; vocab-sized (50257) rows are
// covered kernel by kernel in rows.test.ts.
const config = G.resolveConfig('tiny', { contextLength: 16, dropRate: 0, vocabSize: 2000 });
const batch = (device: T.Device) => ({
  inputs: T.tensor(
    [
      [464, 1990, 373, 257, 922, 1110],
      [40, 367, 1885, 1464, 1807, 1619],
    ],
    { dtype: 'int32', device },
  ),
  targets: T.tensor(
    [
      [1990, 373, 257, 922, 1110, 13],
      [367, 1885, 1464, 1807, 1619, -100],
    ],
    { dtype: 'int32', device },
  ),
});

async function run(device: T.Device) {
  const model = G.GPTModel.create(config, { device, seed: 11, init: 'gpt2' });
  const b = batch(device);
  const loss = T.tidy(() => {
    const l = G.batchLoss(model, b);
    l.backward();
    return l.data;
  });
  const logits = await T.tidy(() => model.forward(b.inputs).data).toArray();
  const grads = new Map<string, Float32Array>();
  for (const [name, p] of model.params) grads.set(name, (await p.grad!.toArray()) as Float32Array);
  const result = { loss: await loss.item(), logits, grads };
  model.dispose();
  return result;
}

describe.runIf(gpu)('GPT-2 on WebGPU matches the CPU reference', () => {
  it('logits, loss and every parameter gradient', async () => {
    const expected = await run(T.cpu);
    const actual = await run(gpu!);
    expect(actual.loss).toBeCloseTo(expected.loss, 4);
    expectAllClose(actual.logits, expected.logits, { atol: 1e-4, rtol: 1e-4 }, 'logits');
    for (const [name, g] of expected.grads)
      expectAllClose(actual.grads.get(name)!, g, { atol: 1e-5, rtol: 1e-3 }, `gradient of ${name}`);
  });

  it('greedy decoding is the same with and without the KV cache', async () => {
    const model = G.GPTModel.create(config, { device: gpu!, seed: 5, init: 'gpt2' });
    const prompt = [464, 1990, 373, 257];
    const cached = await G.generate(model, prompt, { maxNewTokens: 14, useCache: true });
    const uncached = await G.generate(model, prompt, { maxNewTokens: 14, useCache: false });
    expect(cached).toEqual(uncached);
    model.dispose();
  });

  it('greedy decoding picks on the device (argmax kernel, 2 reads of 4 bytes) the tokens the host picks', async () => {
    const model = G.GPTModel.create(config, { device: gpu!, seed: 8, init: 'gpt2' });
    const prompt = [464, 1990, 373, 257];
    const backend = gpu!.backend as unknown as { counters: { reads: number } };
    const r0 = backend.counters.reads;
    const onDevice = await G.generate(model, prompt, { maxNewTokens: 12 });
    const reads = backend.counters.reads - r0;
    const onHost = await G.generate(model, prompt, { maxNewTokens: 12, pickOnDevice: false });
    expect(onDevice).toEqual(onHost);
    expect(new Set(onDevice.slice(prompt.length)).size).toBeGreaterThan(1);
    expect(reads).toBe(2 * 12);
    // A non-finite logit still stops decoding with the host's error, naming the token.
    T.copyInto(
      model.param(config.tiedHead ? 'wte.weight' : 'lm_head.weight').data.slice(0, 7, 8),
      T.full([1, 32], NaN, { device: gpu! }),
    );
    await expect(G.generate(model, prompt, { maxNewTokens: 3 })).rejects.toThrow(
      /logits are not finite at generation step 0 \(token id 7 has logit NaN\)/,
    );
    model.dispose();
  });

  it('top-k sampling selects its candidates on the device: the CPU device tokens for the seed, 1 small read a token', async () => {
    const onGpu = G.GPTModel.create(config, { device: gpu!, seed: 9, init: 'gpt2' });
    const onCpu = G.GPTModel.create(config, { device: T.cpu, seed: 9, init: 'gpt2' });
    const prompt = [464, 1990, 373, 257];
    const backend = gpu!.backend as unknown as { counters: { reads: number; bytesRead: number } };
    const n = 16;
    for (const o of [
      { temperature: 0.9, topK: 40, seed: 3 },
      { temperature: 1.4, topK: 300, topP: 0.8, seed: 4 },
      { temperature: 2, topK: 1, seed: 5 },
    ]) {
      const [r0, b0] = [backend.counters.reads, backend.counters.bytesRead];
      const onDevice = await G.generate(onGpu, prompt, { maxNewTokens: n, ...o });
      expect(backend.counters.reads - r0, 'one read a token').toBe(n);
      // [count, k + 16 ids, k + 16 scores], float32: not the 2000-float row.
      expect(backend.counters.bytesRead - b0).toBe(n * 4 * (1 + 2 * (o.topK + 16)));
      const onHost = await G.generate(onGpu, prompt, { maxNewTokens: n, ...o, pickOnDevice: false });
      const cpuTokens = await G.generate(onCpu, prompt, { maxNewTokens: n, ...o });
      expect(onDevice, JSON.stringify(o)).toEqual(onHost);
      expect(onDevice, JSON.stringify(o)).toEqual(cpuTokens);
      if (o.topK > 1) expect(new Set(onDevice.slice(prompt.length)).size).toBeGreaterThan(3);
    }
    // Past DEVICE_TOP_K_MAX, and temperature alone: the row is read (4 bytes a logit).
    for (const o of [
      { temperature: 1, topK: G.DEVICE_TOP_K_MAX + 1 },
      { temperature: 1, topP: 0.9 },
    ]) {
      const [r0, b0] = [backend.counters.reads, backend.counters.bytesRead];
      const tokens = await G.generate(onGpu, prompt, { maxNewTokens: 4, ...o });
      expect(backend.counters.reads - r0).toBe(4);
      expect(backend.counters.bytesRead - b0).toBe(4 * 4 * config.vocabSize);
      expect(tokens).toEqual(await G.generate(onCpu, prompt, { maxNewTokens: 4, ...o }));
    }
    onCpu.dispose();
    // Every logit tied (a zero head): more candidates than slots, so the row is read too, and
    // the draw is still the host's.
    const head = onGpu.param(config.tiedHead ? 'wte.weight' : 'lm_head.weight').data;
    const zeros = T.zeros(head.shape, { device: gpu! });
    T.copyInto(head, zeros);
    zeros.dispose();
    const r0 = backend.counters.reads;
    const tied = await G.generate(onGpu, prompt, { maxNewTokens: 5, temperature: 1, topK: 3, seed: 6 });
    expect(backend.counters.reads - r0, 'candidates, then the row').toBe(2 * 5);
    expect(tied).toEqual(
      await G.generate(onGpu, prompt, { maxNewTokens: 5, temperature: 1, topK: 3, seed: 6, pickOnDevice: false }),
    );
    // A NaN logit: the host's error, naming the token.
    T.copyInto(head.slice(0, 7, 8), T.full([1, 32], NaN, { device: gpu! }));
    await expect(G.generate(onGpu, prompt, { maxNewTokens: 3, temperature: 1, topK: 5 })).rejects.toThrow(
      /logits are not finite at generation step 0 \(token id 7 has logit NaN\)/,
    );
    onGpu.dispose();
  });
});
