// The book's figure: a freshly initialised 124M model (its chapter-5 configuration: context
// 256, untied head, no qkv bias, PyTorch's default initialisation) has a loss of 10.988 on The
// Verdict's training split and 10.981 on its validation split. Ours must be within 0.2.
// Slow (about 2 x 124M x 5145 x 2 FLOPs per pass): run with `npm run test:slow`. The device is
// MINI_GPT_DEVICE (auto by default).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import { getDevice } from '@mini/tensor/node';

const verdict = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8');

describe("initial loss of the book's 124M model", () => {
  it(
    'is within 0.2 of 10.988 (train) and 10.981 (validation)',
    async () => {
      const device = await getDevice();
      console.log(`device: ${device.info.description}`);
      const model = G.GPTModel.create(G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES), {
        device,
        seed: 123,
      }).eval();
      const { train, validation } = G.splitText(verdict, 0.9);
      const options = { batchSize: 2, maxLength: 256, stride: 256 };
      const started = performance.now();
      const trainLoss = (await G.loaderLoss(model, G.createDataLoader(train, { ...options, dropLast: true }))).loss;
      const valLoss = (await G.loaderLoss(model, G.createDataLoader(validation, { ...options, dropLast: false }))).loss;
      console.log(
        `initial loss: train ${trainLoss.toFixed(3)}, validation ${valLoss.toFixed(3)} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
      );
      expect(Math.abs(trainLoss - 10.988)).toBeLessThan(0.2);
      expect(Math.abs(valLoss - 10.981)).toBeLessThan(0.2);
    },
    6 * 3600_000,
  );
});
