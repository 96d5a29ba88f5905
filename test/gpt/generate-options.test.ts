// generate and sampleNext check their options (library-API hunt, finding 11): before,
// generate ignored unknown keys ({top_k: 1}, {topk: 1}) while resolveConfig refuses them,
// generate(model, ids) with no options failed with "reading 'maxNewTokens'", and the exported
// sampleNext checked nothing (temperature -1 picked the least likely token, topK 0 was ignored,
// empty logits gave 0); a -Infinity logit, PyTorch's way to mask a token, was refused.
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';
import { afterAll, describe, expect, it } from 'vitest';

const model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 8, nLayers: 1 }), { device: T.cpu, seed: 1 });
afterAll(() => model.dispose());
const random = () => new T.Generator(0);

describe('generate options', () => {
  it.each([
    [{ maxNewTokens: 2, top_k: 1 }, 'top_k'],
    [{ maxNewTokens: 2, topk: 1 }, 'topk'],
  ])('refuses the unknown key in %j, naming the known ones', async (options, key) => {
    await expect(G.generate(model, [1, 2], options as never)).rejects.toThrow(G.ConfigError);
    await expect(G.generate(model, [1, 2], options as never)).rejects.toThrow(
      `unknown generate option(s) ${key}; known: maxNewTokens, temperature, topK`,
    );
  });

  it('generates with the defaults when given no options', async () => {
    const out = await G.generate(model, [1, 2]);
    expect(out.length).toBe(2 + G.DEFAULT_GENERATE_OPTIONS.maxNewTokens);
  });

  it('reads the options given over the defaults: {} and {temperature} make the default 50 tokens', async () => {
    const greedy = await G.generate(model, [1, 2]);
    expect(await G.generate(model, [1, 2], {})).toEqual(greedy);
    const sampled = await G.generate(model, [1, 2], { temperature: 0.5, seed: 3 });
    expect(sampled.length).toBe(2 + G.DEFAULT_GENERATE_OPTIONS.maxNewTokens);
    expect(await G.generate(model, [1, 2], { maxNewTokens: 50, temperature: 0.5, seed: 3 })).toEqual(sampled);
  });
});

describe('sampleNext', () => {
  const logits = Float32Array.from([0.1, 3, 0.2, 0.3]);
  it.each([
    [{ maxNewTokens: 1, temperature: -1 }, 'temperature must be a finite number >= 0, got -1'],
    [{ maxNewTokens: 1, temperature: 1, topK: 0 }, 'topK must be an integer >= 1, got 0'],
    [{ maxNewTokens: 1, temperature: 1, topP: 1.5 }, 'topP must be in (0, 1], got 1.5'],
  ])('refuses %j', (options, message) => {
    expect(() => G.sampleNext(logits, options, random())).toThrow(G.ConfigError);
    expect(() => G.sampleNext(logits, options, random())).toThrow(message);
  });

  it('refuses a missing random generator (it failed inside, reading uniform)', () => {
    expect(() => G.sampleNext(logits, { temperature: 1 }, undefined as never)).toThrow(
      'sampleNext: random must be a Generator or a TorchGenerator, got undefined',
    );
    expect(G.sampleNext(logits, {}, undefined as never)).toBe(1); // greedy draws nothing
  });

  it('refuses an unknown key, as generate does', () => {
    expect(() => G.sampleNext(logits, { temprature: 1 } as never, random())).toThrow(
      'unknown generate option(s) temprature; known: maxNewTokens',
    );
  });

  it('refuses an empty row', () => {
    expect(() => G.sampleNext(new Float32Array(0), { maxNewTokens: 1 }, random())).toThrow('the logits row is empty');
  });

  it('takes -Infinity as a masked token, and still refuses NaN and +Infinity', () => {
    const masked = Float32Array.from([Number.NEGATIVE_INFINITY, 0.5, Number.NEGATIVE_INFINITY, 0.1]);
    expect(G.sampleNext(masked, { maxNewTokens: 1 }, random())).toBe(1);
    for (let seed = 0; seed < 20; seed++) {
      const id = G.sampleNext(masked, { maxNewTokens: 1, temperature: 1, topK: 3 }, new T.Generator(seed));
      expect([1, 3]).toContain(id);
    }
    expect(G.sampleNext(masked, { maxNewTokens: 1, temperature: 1 }, new T.TorchGenerator(0))).not.toBe(0);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => G.sampleNext(Float32Array.from([0, bad]), { maxNewTokens: 1 }, random())).toThrow(
        G.NonFiniteLogitsError,
      );
    const allMasked = new Float32Array(3).fill(Number.NEGATIVE_INFINITY);
    expect(() => G.sampleNext(allMasked, { maxNewTokens: 1 }, random())).toThrow(G.NonFiniteLogitsError);
  });
});
