// Evaluation (the book's evaluate_model) and the forward without gradients it runs: the same
// losses as batch-by-batch, one read-back per evaluation, one block's intermediates at a time.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as A from '@mini/autograd';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';

const verdict = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8');
const config = (overrides: Partial<G.GPTConfig> = {}) => G.resolveConfig('tiny', { contextLength: 32, ...overrides });

describe('evaluate', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('gives the mean of the batch losses, each split, with one read-back for the whole evaluation', async () => {
    const model = G.GPTModel.create(config(), { device: T.fastCpu, seed: 3 });
    const { train, validation } = G.splitText(verdict.slice(0, 6000), 0.8);
    const loader = (text: string) =>
      G.createDataLoader(text, { batchSize: 2, maxLength: 32, stride: 32, device: T.fastCpu });
    const [trainLoader, valLoader] = [loader(train), loader(validation)];
    // The reference: each batch's loss read on its own, in eval mode, in order.
    model.eval();
    const each = async (l: G.DataLoader, n: number) => {
      const order = [...Array(l.dataset.length).keys()];
      const losses = [];
      for (let i = 0; i < n; i++) {
        const loss = A.noGrad(() => T.tidy(() => G.batchLoss(model, l.batch(0, i, order)).data));
        losses.push(await loss.item());
        loss.dispose();
      }
      return losses.reduce((a, b) => a + b, 0) / n;
    };
    const expected = {
      trainLoss: await each(trainLoader, 3),
      valLoss: await each(valLoader, Math.min(3, valLoader.length)),
    };
    model.train();
    const read = vi.spyOn(T.fastCpu.backend, 'read');
    const live = T.fastCpu.backend.liveBytes();
    const record = await G.evaluate(model, trainLoader, valLoader, 3, { step: 0, epoch: 1, tokensSeen: 0 });
    expect(read).toHaveBeenCalledTimes(1);
    expect(record.trainLoss).toBe(expected.trainLoss);
    expect(record.valLoss).toBe(expected.valLoss);
    expect(model.training).toBe(true); // the mode is restored
    expect(T.fastCpu.backend.liveBytes()).toBe(live); // nothing left behind
    model.dispose();
  });

  it("a forward without gradients holds one block's intermediates at a time, not every block's", () => {
    // Small vocabulary: the blocks' intermediates, not the logits, set the peak.
    const peak = (nLayers: number) => {
      const model = G.GPTModel.create(config({ nLayers, vocabSize: 64, contextLength: 128 }), {
        device: T.cpu,
        seed: 1,
      }).eval();
      const ids = T.randint(0, 64, [2, 128], { device: T.cpu });
      const forward = () => A.noGrad(() => T.tidy(() => model.forward(ids).data)).dispose();
      forward(); // a first forward makes what the device caches (the causal mask)
      const before = T.cpu.backend.liveBytes();
      T.cpu.backend.resetPeakBytes();
      forward();
      const bytes = T.cpu.backend.peakBytes() - before;
      expect(T.cpu.backend.liveBytes()).toBe(before);
      ids.dispose();
      model.dispose();
      return bytes;
    };
    const [one, eight] = [peak(1), peak(8)];
    expect(eight).toBeLessThan(1.2 * one);
  });
});
