// The fast CPU device trains exactly as the reference: the same losses, step by step, for a
// tiny GPT whose products are large enough to use the WebAssembly kernel and its threads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';

const text = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8');

async function losses(device: T.Device): Promise<number[]> {
  const config = G.resolveConfig('tiny', { contextLength: 32, tiedHead: false, qkvBias: false });
  const model = G.GPTModel.create(config, { seed: 123, device });
  const optimizer = new G.AdamW(model.params, { lr: 4e-3, weightDecay: 0.1 });
  const loader = G.createDataLoader(text, { batchSize: 2, maxLength: 32, stride: 256, device, shuffle: true, seed: 1 });
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    const batch = loader.batch(0, i);
    model.zeroGrad();
    const loss = T.tidy(() => {
      const l = G.batchLoss(model, batch);
      l.backward();
      return l.data;
    });
    out.push(await loss.item());
    optimizer.update();
  }
  model.dispose();
  optimizer.dispose();
  return out;
}

describe('fast CPU training', () => {
  it("gives the reference backend's losses step by step", async () => {
    const expected = await losses(T.cpu);
    const actual = await losses(T.fastCpu);
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
  });
});
