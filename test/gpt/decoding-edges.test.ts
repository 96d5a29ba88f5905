// Decoding at the edges of every option's accepted range: no stage (temperature, top-k, top-p,
// softmax, the cumulative draw) may turn the scores non-finite, and non-finite logits are refused.
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';

const F32_MAX = 3.4028234663852886e38;
// The argmax (id 2) is not the last id: a NaN row used to fall through the draw to the last id.
const logits = Float32Array.from([0.5, -F32_MAX, F32_MAX, 1, -2, 0, 3, -F32_MAX]);
const V = logits.length;
const draws = (o: Partial<G.GenerateOptions>, row: Float32Array = logits, n = 300) => {
  G.validateGenerateOptions({ maxNewTokens: 1, ...o });
  const random = new T.Generator(11);
  return Array.from({ length: n }, () => G.sampleNext(row, { maxNewTokens: 1, ...o }, random));
};
const counts = (ids: number[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<number, number>());

describe('sampleNext at the edges of the accepted ranges', () => {
  it('temperature: the smallest positive values pick the argmax, the largest spread evenly, all finite', () => {
    for (const temperature of [Number.MIN_VALUE, 1e-300, 1e-30])
      expect(new Set(draws({ temperature })), String(temperature)).toEqual(new Set([2]));
    // Scores ±F32_MAX apart: (s - max) / t stays finite for t = 1 (-6.8e38 in float64).
    expect(new Set(draws({ temperature: 1 }))).toEqual(new Set([2]));
    const moderate = Float32Array.from([0, 0.1, 0.2, 0.3]);
    for (const temperature of [1e30, Number.MAX_VALUE]) {
      const c = counts(draws({ temperature }, moderate, 2000));
      expect(c.size, String(temperature)).toBe(4);
      for (const n of c.values()) expect(n).toBeGreaterThan(400); // uniform: 500 each
    }
  });

  it('top-k: 1 is greedy; k = V and k > V change nothing', () => {
    expect(new Set(draws({ temperature: 1e6, topK: 1 }))).toEqual(new Set([2]));
    const all = draws({ temperature: 1e6 });
    expect(draws({ temperature: 1e6, topK: V })).toEqual(all);
    expect(draws({ temperature: 1e6, topK: V + 10 })).toEqual(all);
    expect(draws({ temperature: 1e6, topK: Number.MAX_SAFE_INTEGER })).toEqual(all);
  });

  it('top-p: the smallest positive p keeps the top token; p = 1 changes nothing', () => {
    expect(new Set(draws({ temperature: 1e6, topP: Number.MIN_VALUE }))).toEqual(new Set([2]));
    expect(draws({ temperature: 1e6, topP: 1 })).toEqual(draws({ temperature: 1e6 }));
    const moderate = Float32Array.from([0, 0.1, 0.2, 0.3]);
    expect(counts(draws({ temperature: 1e6, topP: 1 - Number.EPSILON }, moderate)).size).toBe(4);
  });

  it('refuses values outside the ranges, naming the option', () => {
    const bad: [Partial<G.GenerateOptions>, RegExp][] = [
      [{ temperature: -1e-300 }, /temperature/],
      [{ temperature: NaN }, /temperature/],
      [{ temperature: Infinity }, /temperature/],
      [{ topK: 0 }, /topK/],
      [{ topK: 1.5 }, /topK/],
      [{ topK: NaN }, /topK/],
      [{ topK: Infinity }, /topK/],
      [{ topP: 0 }, /topP/],
      [{ topP: 1 + Number.EPSILON }, /topP/],
      [{ topP: NaN }, /topP/],
      [{ topP: -0.5 }, /topP/],
      [{ seed: -1 }, /seed/],
      [{ seed: 0.5 }, /seed/],
      [{ seed: NaN }, /seed/],
      [{ maxNewTokens: -1 }, /maxNewTokens/],
      [{ maxNewTokens: Infinity }, /maxNewTokens/],
      [{ eosId: -1 }, /eosId/],
      [{ eosId: 1.5 }, /eosId/],
    ];
    for (const [o, message] of bad)
      expect(() => G.validateGenerateOptions({ maxNewTokens: 1, ...o }), JSON.stringify(o)).toThrow(message);
  });

  it('non-finite logits are refused with a typed error naming the step and the token, greedy or sampled', () => {
    // -Infinity is a masked token (PyTorch's way), accepted: generate-options.test.ts.
    for (const value of [NaN, Infinity]) {
      const row = Float32Array.from(logits);
      row[5] = value;
      for (const o of [{}, { temperature: 1 }, { temperature: 1, topK: 3, topP: 0.9 }]) {
        let error: unknown;
        try {
          G.sampleNext(row, { maxNewTokens: 1, ...o }, new T.Generator(0), 7);
        } catch (e) {
          error = e;
        }
        expect(error, `${value} ${JSON.stringify(o)}`).toBeInstanceOf(G.NonFiniteLogitsError);
        expect((error as G.NonFiniteLogitsError).step).toBe(7);
        expect((error as G.NonFiniteLogitsError).tokenId).toBe(5);
        expect((error as Error).message).toMatch(
          new RegExp(`not finite at generation step 7 \\(token id 5 has logit ${value}\\)`),
        );
      }
    }
  });

  it('the torch stream: a temperature whose float32 division overflows is refused by name, not drawn from NaN', () => {
    // The book divides in float32: 3 / 1e-45 is Infinity there (it sampled token 0 from NaN).
    const row = Float32Array.from([0.5, 3, -1]);
    for (const temperature of [1e-45, 1e-40]) {
      expect(
        () => G.sampleNext(row, { maxNewTokens: 1, temperature }, new T.TorchGenerator(1)),
        String(temperature),
      ).toThrow(/temperature .* is too small for these logits: logits \/ temperature overflows float32/);
    }
    // Small but representable: the argmax, as the fast stream gives.
    expect(G.sampleNext(row, { maxNewTokens: 1, temperature: 1e-30 }, new T.TorchGenerator(1))).toBe(1);
  });
});

describe('generate: prompt ids', () => {
  it('refuses a prompt id that is not an integer in [0, vocabSize), naming its position', async () => {
    const config = G.resolveConfig('gpt2-small', {
      vocabSize: 50,
      contextLength: 8,
      embedDim: 8,
      nHeads: 2,
      nLayers: 1,
    });
    const model = G.GPTModel.create(config, { device: T.cpu, seed: 1 });
    for (const [ids, bad] of [
      [[1, 1.5], '1 is 1.5'],
      [[-1], '0 is -1'],
      [[3, 4, 50], '2 is 50'],
      [[Number.NaN], '0 is NaN'],
    ] as const) {
      await expect(G.generate(model, ids, { maxNewTokens: 1 }), bad).rejects.toThrow(
        new RegExp(`prompt token ${bad}, not a token id \\(an integer in \\[0, 50\\)\\)`),
      );
    }
    expect((await G.generate(model, [0, 49], { maxNewTokens: 1 })).length).toBe(3);
    model.dispose();
  });
});
