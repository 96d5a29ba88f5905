// GPTModel.create and prepareTrainingRun check a caller's config through resolveConfig, the
// check config files and flags pass (library-API hunt, finding 5): before, a config without
// nLayers built a 0-layer model that ran, nLayers 1.5 built 2 layers, layerNormEps -1, init
// 'xavier', rng 'mt' and unknown keys were accepted, and embedDim -32 or contextLength 1e9
// failed inside the tensor library with "Invalid typed array length".
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';
import { describe, expect, it } from 'vitest';

const tiny = G.resolveConfig('tiny', { contextLength: 8 });
const { nLayers: _dropped, ...noLayers } = tiny;

describe('GPTModel.create checks its config and options', () => {
  it.each([
    ['a missing nLayers', noLayers, 'config.nLayers must be a number, got undefined'],
    ['a fractional nLayers', { ...tiny, nLayers: 1.5 }, 'config.nLayers must be a positive integer, got 1.5'],
    ['a negative layerNormEps', { ...tiny, layerNormEps: -1 }, 'config.layerNormEps must be > 0, got -1'],
    ['an unknown key', { ...tiny, nLayer: 2 }, 'unknown config key(s): nLayer'],
    ['nHeads not dividing embedDim', { ...tiny, nHeads: 3 }, 'config.embedDim (32) must be divisible by nHeads (3)'],
    ['a negative embedDim', { ...tiny, embedDim: -32 }, 'config.embedDim must be a positive integer, got -32'],
    ['vocabSize 0', { ...tiny, vocabSize: 0 }, 'config.vocabSize must be a positive integer, got 0'],
    ['an unsafe integer', { ...tiny, vocabSize: 2 ** 60 }, 'config.vocabSize must be a positive integer'],
    ['a matrix no array holds', { ...tiny, contextLength: 1e9 }, 'a weight matrix of 32000000000 elements'],
  ])('refuses %s', (_what, config, message) => {
    expect(() => G.GPTModel.create(config as G.GPTConfig, { device: T.cpu })).toThrow(G.ConfigError);
    expect(() => G.GPTModel.create(config as G.GPTConfig, { device: T.cpu })).toThrow(message);
  });

  it.each([
    [{ init: 'xavier' }, 'unknown init "xavier"; use pytorch or gpt2'],
    [{ rng: 'mt' }, 'unknown rng "mt"; use torch or fast'],
    [{ sed: 1 }, 'unknown option(s) sed; known: device, seed, init, rng'],
    [{ seed: -1 }, 'seed must be a non-negative safe integer, got -1'],
  ])('refuses the options %j', (options, message) => {
    expect(() => G.GPTModel.create(tiny, { device: T.cpu, ...options } as never)).toThrow(G.ConfigError);
    expect(() => G.GPTModel.create(tiny, { device: T.cpu, ...options } as never)).toThrow(message);
  });

  it('refuses a bad config in prepareTrainingRun before building anything', () => {
    const data = G.textTrainingData('hello world, '.repeat(40), { trainRatio: 0.8, maxLength: 8 });
    expect(() =>
      G.prepareTrainingRun({
        config: { ...tiny, layerNormEps: Number.NaN },
        data,
        batchSize: 2,
        device: T.cpu,
        seed: 0,
        lr: 1e-3,
        weightDecay: 0.1,
      }),
    ).toThrow('config.layerNormEps must be a number, got null');
  });

  it('still builds a model from a good config', () => {
    const model = G.GPTModel.create(tiny, { device: T.cpu, seed: 3, init: 'gpt2', rng: 'fast' });
    expect(model.config).toEqual(tiny);
    model.dispose();
  });
});
