// The model, the training loop on The Verdict (tiny preset), decoding and the KV cache.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';

const verdict = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8');
const tiny = (overrides: Partial<G.GPTConfig> = {}) => G.resolveConfig('tiny', { contextLength: 32, ...overrides });

describe('GPT model', () => {
  it("maps (B, T) ids to (B, T, V) logits; an untrained model's loss is about ln(V)", async () => {
    const model = G.GPTModel.create(tiny(), { init: 'gpt2' }).eval();
    const ids = T.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'int32' },
    );
    const logits = model.forward(ids);
    expect(logits.shape).toEqual([2, 3, 50257]);
    const loss = await G.loaderLoss(
      model,
      G.createDataLoader(verdict.slice(0, 2000), { batchSize: 2, maxLength: 16, stride: 16 }),
      { maxBatches: 2 },
    );
    expect(Math.abs(loss.loss - Math.log(50257))).toBeLessThan(0.2);
    expect(loss.batches).toBe(2);
    expect(loss.tokens).toBe(64);
    model.dispose();
  });

  it("initialises as the book's PyTorch model: N(0, 1) embeddings, U(+-1/sqrt(fan_in)) linears, LayerNorm 1/0", async () => {
    const model = G.GPTModel.create(tiny(), { seed: 3 });
    const wte = Array.from(await model.param('wte.weight').data.toArray());
    const mean = wte.reduce((s, v) => s + v, 0) / wte.length;
    const std = Math.sqrt(wte.reduce((s, v) => s + (v - mean) ** 2, 0) / wte.length);
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
    const fc = Array.from(await model.param('h.0.mlp.c_fc.weight').data.toArray());
    const bound = 1 / Math.sqrt(32);
    expect(Math.max(...fc.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...fc.map(Math.abs))).toBeGreaterThan(0.95 * bound);
    expect(Array.from(await model.param('h.1.ln_2.weight').data.toArray()).every((v) => v === 1)).toBe(true);
    model.dispose();
  });

  it('rejects inputs longer than the context and non-int32 ids', () => {
    const model = G.GPTModel.create(tiny({ contextLength: 4 }));
    expect(() => model.forward(T.zeros([1, 5], { dtype: 'int32' }))).toThrow(/5 positions exceed the context length 4/);
    expect(() => model.forward(T.zeros([1, 2]))).toThrow(/ids must be int32/);
    model.dispose();
  });

  it('a missing or unknown parameter is a ModelError naming it', () => {
    const model = G.GPTModel.create(tiny());
    expect(() => model.param('h.9.ln_1.weight')).toThrow(G.ModelError);
    expect(() => model.param('h.9.ln_1.weight')).toThrow(/no parameter h\.9\.ln_1\.weight/);
    const weights = new Map([...model.params].map(([name, p]) => [name, p.data]));
    weights.delete('ln_f.bias');
    expect(() => new G.GPTModel(model.config, model.device, weights)).toThrow(/missing parameter ln_f\.bias/);
    model.dispose();
  });

  it('the dropout state saves and restores: the same state drops the same elements', async () => {
    const model = G.GPTModel.create(tiny({ dropRate: 0.5 }), { seed: 4, rng: 'fast' }).train();
    const ids = T.tensor([[1, 2, 3]], { dtype: 'int32' });
    const saved = model.dropoutState;
    expect(saved).toEqual({ seed: G.runSeeds(4).dropout, stream: 0 }); // the run's dropout seed, folded in from its seed
    const first = await A.noGrad(() => model.forward(ids)).data.toArray();
    expect(model.dropoutState.stream).toBeGreaterThan(0);
    const second = await A.noGrad(() => model.forward(ids)).data.toArray();
    expect(Array.from(second)).not.toEqual(Array.from(first));
    model.dropoutState = saved;
    const again = await A.noGrad(() => model.forward(ids)).data.toArray();
    expect(Array.from(again)).toEqual(Array.from(first));
    model.dispose();
  });
});

describe('training on The Verdict (tiny preset, CPU)', () => {
  it('the loss falls well below its starting value, with evaluations, samples and events', async () => {
    const { train, validation } = G.splitText(verdict, 0.9);
    const loaderOptions = { batchSize: 2, maxLength: 32, stride: 256 };
    const trainLoader = G.createDataLoader(train, { ...loaderOptions, shuffle: true, dropLast: true, seed: 123 });
    const valLoader = G.createDataLoader(validation, { ...loaderOptions, dropLast: false });
    // The book's setup: untied head, no qkv bias, PyTorch's default initialisation.
    const model = G.GPTModel.create(tiny({ tiedHead: false, qkvBias: false }), { seed: 123 });
    const optimizer = new G.AdamW(model.params, { lr: 4e-3, weightDecay: 0.1 });
    const samples: string[] = [];
    let steps = 0;
    const { state } = await G.trainModel(
      model,
      optimizer,
      trainLoader,
      valLoader,
      { epochs: 3, evalFreq: 5, evalIter: 2, startContext: 'Every effort moves you', sampleTokens: 8 },
      { onStep: () => steps++, onSample: (s) => samples.push(s.text) },
    );
    const first = state.history[0]!;
    const last = state.history[state.history.length - 1]!;
    console.log(
      state.history
        .map(
          (r) =>
            `Ep ${r.epoch} (Step ${String(r.step).padStart(6, '0')}): Train loss ${r.trainLoss.toFixed(3)}, Val loss ${r.valLoss.toFixed(3)}`,
        )
        .join('\n'),
    );
    expect(steps).toBe(3 * trainLoader.length);
    expect(state.tokensSeen).toBe(steps * 2 * 32);
    expect(first.trainLoss).toBeGreaterThan(10);
    expect(last.trainLoss).toBeLessThan(first.trainLoss - 2.5);
    expect(last.valLoss).toBeLessThan(first.valLoss - 1.5);
    expect(samples).toHaveLength(3);
    expect(samples[0]!.startsWith('Every effort moves you')).toBe(true);
    model.dispose();
    optimizer.dispose();
  });
});

describe('a non-finite loss', () => {
  it('stops training with NonFiniteLossError before the update is applied', async () => {
    const model = G.GPTModel.create(tiny(), { seed: 1 });
    const wpe = model.param('wpe.weight').data;
    T.copyInto(wpe.slice(0, 0, 1), T.full([1, 32], Infinity));
    const before = Array.from(await model.param('h.0.mlp.c_fc.weight').data.toArray());
    const loader = G.createDataLoader(verdict.slice(0, 1500), { batchSize: 1, maxLength: 8, stride: 8 });
    const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
    await expect(
      G.trainModel(model, optimizer, loader, loader, { epochs: 1, evalFreq: 1, evalIter: 1, startContext: '' }),
    ).rejects.toThrow(/the training loss became NaN at step 0; the update was not applied/);
    expect(Array.from(await model.param('h.0.mlp.c_fc.weight').data.toArray())).toEqual(before);
    expect(optimizer.step).toBe(0);
    model.dispose();
  });
});

describe('decoding', () => {
  it('greedy decoding gives identical tokens with and without the KV cache', async () => {
    const model = G.GPTModel.create(tiny({ contextLength: 12 }), { seed: 5, init: 'gpt2' });
    const prompt = G.textToIds('Every effort moves you');
    const options = { maxNewTokens: 14 }; // runs past the 12-token context: cropping included
    const cached = await G.generate(model, prompt, { ...options, useCache: true });
    const uncached = await G.generate(model, prompt, { ...options, useCache: false });
    expect(cached).toEqual(uncached);
    expect(cached).toHaveLength(prompt.length + 14);
    model.dispose();
  });

  it("cached logits equal the full forward's at every position", async () => {
    const model = G.GPTModel.create(tiny(), { seed: 6 }).eval();
    const ids = [5, 9, 200, 7, 31];
    const full = await model.forward(T.tensor([ids], { dtype: 'int32' })).data.toArray();
    const cache = new G.KVCache(model.config, T.cpu, 1);
    const [prefill, step4, step5] = A.noGrad(() => [
      model.forward(T.tensor([ids.slice(0, 3)], { dtype: 'int32' }), { cache }),
      model.forward(T.tensor([[ids[3]!]], { dtype: 'int32' }), { cache }),
      model.forward(T.tensor([[ids[4]!]], { dtype: 'int32' }), { cache }),
    ]);
    const V = 50257;
    const pieces = [await prefill!.data.toArray(), await step4!.data.toArray(), await step5!.data.toArray()];
    const joined = Float32Array.from(pieces.flatMap((p) => Array.from(p)));
    let worst = 0;
    for (let i = 0; i < 5 * V; i++) worst = Math.max(worst, Math.abs(joined[i]! - full[i]!));
    expect(worst).toBeLessThan(1e-5);
    cache.dispose();
    model.dispose();
  });

  it('samples: greedy = top-k 1, seeded sampling repeats, top-p keeps the nucleus, eos stops', async () => {
    const logits = Float32Array.from([0.1, 2.5, 0.3, 2.4, -1]);
    expect(G.sampleNext(logits, { maxNewTokens: 1 }, new T.Generator(0))).toBe(1);
    expect(G.sampleNext(logits, { maxNewTokens: 1, temperature: 5, topK: 1 }, new T.Generator(0))).toBe(1);
    const draw = (seed: number, o: Partial<G.GenerateOptions> = {}) => {
      const g = new T.Generator(seed);
      return Array.from({ length: 200 }, () => G.sampleNext(logits, { maxNewTokens: 1, temperature: 1, ...o }, g));
    };
    expect(draw(1)).toEqual(draw(1));
    expect(new Set(draw(1)).size).toBeGreaterThan(2);
    expect(new Set(draw(2, { topK: 2 }))).toEqual(new Set([1, 3]));
    expect(new Set(draw(3, { topP: 0.5 }))).toEqual(new Set([1, 3])); // p(1) ~ 0.48, so the nucleus needs 3 too
    expect(() => G.validateGenerateOptions({ maxNewTokens: 1, temperature: -1 })).toThrow(
      /temperature must be a finite number >= 0/,
    );
    const model = G.GPTModel.create(tiny(), { seed: 5, init: 'gpt2' });
    const prompt = [1, 2, 3];
    const greedy = await G.generate(model, prompt, { maxNewTokens: 5 });
    expect(greedy).toHaveLength(8);
    const stopped = await G.generate(model, prompt, { maxNewTokens: 5, eosId: greedy[3] });
    expect(stopped).toEqual(prompt);
    const streamed: number[] = [];
    for await (const id of G.generateTokens(model, prompt, { maxNewTokens: 3, temperature: 1, seed: 9 }))
      streamed.push(id);
    expect(streamed).toEqual((await G.generate(model, prompt, { maxNewTokens: 3, temperature: 1, seed: 9 })).slice(3));
    model.dispose();
  });
});

describe('optimizer extras', () => {
  it('warmup then cosine decay, as in appendix D', () => {
    const o = { lr: 1e-3, warmupSteps: 10, initialLr: 1e-5, cosine: true, minLr: 1e-4, totalSteps: 110 };
    expect(G.learningRate(0, o)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) / 10, 12);
    expect(G.learningRate(9, o)).toBeCloseTo(1e-3, 12);
    expect(G.learningRate(60, o)).toBeCloseTo(1e-4 + 0.9e-3 * 0.5, 12);
    expect(G.learningRate(110, o)).toBeCloseTo(1e-4, 12);
  });

  it('clipGradNorm scales gradients to the maximum global norm and returns the norm before', async () => {
    const model = G.GPTModel.create(tiny(), { seed: 1 });
    T.tidy(() =>
      G.batchLoss(model, {
        inputs: T.tensor([[1, 2, 3]], { dtype: 'int32' }),
        targets: T.tensor([[2, 3, 4]], { dtype: 'int32' }),
      }).backward(),
    );
    const normOf = async () => {
      let s = 0;
      for (const p of model.params.values()) for (const v of await p.grad!.toArray()) s += v * v;
      return Math.sqrt(s);
    };
    const before = await normOf();
    const reported = await G.clipGradNorm(model.params.values(), 0.5).item();
    expect(reported).toBeCloseTo(before, 3);
    expect(await normOf()).toBeCloseTo(0.5, 4);
    model.dispose();
  });
});
