// trainModel checks its options before any step and AdamW its betas and update rate
// (library-API hunt, findings 6 and 7): before, schedule.lr NaN or gradClip NaN wrote NaN
// into the weights at step 0, a negative lr or gradClip raised the loss silently, saveEvery 0,
// sampleTokens -1 and maxSteps -1 were ignored, gradAccum above the batches took no step and
// returned normally, betas [0.9] or update(NaN) made every weight NaN, update(-1) climbed the
// loss and update('0.1') was accepted.
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';
import { describe, expect, it } from 'vitest';

const config = G.resolveConfig('tiny', { contextLength: 8, nLayers: 1 });
const text = 'Every effort moves you forward, step by step. '.repeat(6);

async function setup() {
  const model = G.GPTModel.create(config, { device: T.cpu, seed: 1 });
  const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
  const ids = G.textToIds(text);
  const loader = () =>
    new G.DataLoader(new G.SlidingWindowDataset(ids, 8, 8), { batchSize: 2, device: T.cpu, shuffle: false });
  const before = Array.from(await model.param('wte.weight').data.toArray());
  return { model, optimizer, train: loader(), val: loader(), before };
}

const base = { epochs: 1, evalFreq: 5, evalIter: 1, startContext: '', sampleTokens: 0 };

describe('trainModel refuses bad options before any step', () => {
  it.each([
    [{ schedule: { lr: Number.NaN } }, 'schedule.lr must be a finite number >= 0, got NaN'],
    [{ schedule: { lr: -1e-3 } }, 'schedule.lr must be a finite number >= 0, got -0.001'],
    [{ schedule: { lr: '0.1' } }, 'schedule.lr must be a finite number >= 0, got "0.1"'],
    [{ schedule: { minLr: 3, cosine: true } }, 'schedule.minLr 3 is above schedule.lr 0.001'],
    [{ schedule: { warmupSteps: -5 } }, 'schedule.warmupSteps must be an integer >= 0, got -5'],
    [{ schedule: { warmup: 5 } }, 'schedule: unknown key(s) warmup'],
    [{ gradClip: Number.NaN }, 'gradClip must be a finite number > 0, got NaN'],
    [{ gradClip: -1 }, 'gradClip must be a finite number > 0, got -1'],
    [{ saveEvery: 0 }, 'saveEvery must be an integer >= 1, got 0'],
    [{ sampleTokens: -1 }, 'sampleTokens must be an integer >= 0, got -1'],
    [{ maxSteps: -1 }, 'maxSteps must be an integer >= 1, got -1'],
    [{ gradAccum: 1000 }, 'gradAccum 1000 is more than the'],
  ])('%j', async (extra, message) => {
    const { model, optimizer, train, val, before } = await setup();
    const run = G.trainModel(model, optimizer, train, val, { ...base, ...extra } as G.TrainOptions);
    await expect(run).rejects.toThrow(G.ConfigError);
    await expect(G.trainModel(model, optimizer, train, val, { ...base, ...extra } as G.TrainOptions)).rejects.toThrow(
      message,
    );
    expect(Array.from(await model.param('wte.weight').data.toArray())).toEqual(before);
    expect(optimizer.step).toBe(0);
    model.dispose();
  });

  it('no options object at all (a call from JavaScript) is named, not read inside', async () => {
    const { model, optimizer, train, val } = await setup();
    await expect(G.trainModel(model, optimizer, train, val, undefined as never)).rejects.toThrow(
      'trainModel: options ({epochs, evalFreq, evalIter, ...}) must be an object, got undefined',
    );
    model.dispose();
  });
});

describe('AdamW refuses betas and rates that would corrupt the weights', () => {
  it('betas must be two numbers in [0, 1)', async () => {
    const { model } = await setup();
    expect(() => new G.AdamW(model.params, { lr: 1e-3, betas: [0.9] as never })).toThrow(
      'AdamW: betas must be two numbers, got [0.9]',
    );
    expect(() => new G.AdamW(model.params, { lr: 1e-3, betas: [0.9, '0.99'] as never })).toThrow(G.ConfigError);
    model.dispose();
  });

  it.each([[Number.NaN], [-1], ['0.1'], [Number.POSITIVE_INFINITY]])(
    'update(%j) is refused, weights unchanged',
    async (lr) => {
      const { model, optimizer, before } = await setup();
      for (const p of model.params.values()) p.grad = T.ones(p.data.shape, { device: T.cpu });
      expect(() => optimizer.update(lr as number)).toThrow(G.ConfigError);
      expect(() => optimizer.update(lr as number)).toThrow('AdamW.update: lr must be a finite number >= 0');
      expect(Array.from(await model.param('wte.weight').data.toArray())).toEqual(before);
      expect(optimizer.step).toBe(0);
      optimizer.update(0);
      expect(optimizer.step).toBe(1);
      model.dispose();
    },
  );

  it('learningRate refuses a floor above the peak', () => {
    expect(() => G.learningRate(0, { lr: 1, minLr: 3, cosine: true })).toThrow(
      'schedule.minLr 3 is above schedule.lr 1',
    );
  });
});
