// Configs and parameter counts, the tokenizer, and the data pipeline (against the book's figures).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';

const verdict = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8');

describe('configs', () => {
  it('parameter counts reproduce GPT-2 (tied) and the book (untied, no qkv bias)', () => {
    expect(G.parameterCount(G.resolveConfig('gpt2-small'))).toBe(124_439_808);
    expect(G.parameterCount(G.resolveConfig('gpt2-medium'))).toBe(354_823_168);
    expect(G.parameterCount(G.resolveConfig('gpt2-large'))).toBe(774_030_080);
    expect(G.parameterCount(G.resolveConfig('gpt2-xl'))).toBe(1_557_611_200);
    const book = G.resolveConfig('gpt2-small', { ...G.BOOK_CONFIG_OVERRIDES, contextLength: 1024 });
    expect(G.parameterCount(book)).toBe(163_009_536);
  });

  it('a model has exactly the parameters the count says', () => {
    const config = G.resolveConfig('tiny', { qkvBias: false, tiedHead: false });
    const model = G.GPTModel.create(config);
    expect(model.numParameters()).toBe(G.parameterCount(config));
    model.dispose();
  });

  it('rejects unknown presets and keys, and impossible sizes, naming them', () => {
    expect(() => G.resolveConfig('gpt5' as 'tiny')).toThrow(/unknown preset "gpt5": use one of gpt2-small/);
    expect(() => G.resolveConfig('tiny', { heads: 3 } as never)).toThrow(/unknown config key\(s\): heads/);
    expect(() => G.resolveConfig('tiny', { nHeads: 3 })).toThrow(/embedDim \(32\) must be divisible by nHeads \(3\)/);
    expect(() => G.resolveConfig('tiny', { dropRate: 1 })).toThrow(/dropRate must be in \[0, 1\)/);
  });

  it("a config.json's faults name the file and its keys (n_head, not nHeads), and a missing key as missing", () => {
    const json = { vocab_size: 50257, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 2 };
    expect(() => G.fromHFConfig({ ...json, n_head: 3 }, 'm/config.json')).toThrow(
      'm/config.json: n_embd (32) must be divisible by n_head (3)',
    );
    expect(() => G.fromHFConfig({ ...json, n_layer: -1 }, 'm/config.json')).toThrow(
      'm/config.json: n_layer must be a positive integer, got -1',
    );
    expect(() => G.fromHFConfig({ ...json, n_embd: undefined }, 'm/config.json')).toThrow(
      'm/config.json: "n_embd" is missing',
    );
    expect(() => G.fromHFConfig({ ...json, n_embd: '32' }, 'm/config.json')).toThrow(
      'm/config.json: "n_embd" must be a number, got "32"',
    );
  });
});

describe('tokenizer', () => {
  it('encodes as the book shows, <|endoftext|> included, and decodes back', () => {
    const text = 'Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace.';
    const ids = G.textToIds(text);
    expect(ids.slice(0, 12)).toEqual([15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252]);
    expect(G.idsToText(ids)).toBe(text);
    expect(G.textToIds(verdict).length).toBe(5145); // the book's figure for The Verdict
  });
});

describe('data', () => {
  it("sliding windows are the book's first batch (max length 4, stride 1)", async () => {
    const loader = G.createDataLoader(verdict, { batchSize: 1, maxLength: 4, stride: 1 });
    const { inputs, targets } = loader.batch(0, 0);
    expect(await inputs.toNested()).toEqual([[40, 367, 2885, 1464]]);
    expect(await targets.toNested()).toEqual([[367, 2885, 1464, 1807]]);
    expect(inputs.dtype).toBe('int32');
  });

  it("the book's 90/10 split gives its 9 training and 1 validation batches (2 x 256)", () => {
    const { train, validation } = G.splitText(verdict, 0.9);
    expect(train.length + validation.length).toBe(verdict.length);
    const options = { batchSize: 2, maxLength: 256, stride: 256 };
    expect(G.createDataLoader(train, { ...options, dropLast: true }).length).toBe(9);
    expect(G.createDataLoader(validation, { ...options, dropLast: false }).length).toBe(1);
  });

  it('shuffling is seeded per epoch, and drop-last drops the short batch', () => {
    const dataset = new G.SlidingWindowDataset([...Array(50).keys()], 4, 4); // 12 windows
    const a = new G.DataLoader(dataset, { batchSize: 5, shuffle: true, seed: 1 });
    const b = new G.DataLoader(dataset, { batchSize: 5, shuffle: true, seed: 1 });
    expect(a.order(0)).toEqual(b.order(0));
    expect(a.order(0)).not.toEqual(a.order(1));
    expect([...a.order(0)].sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    expect(a.length).toBe(3);
    expect(new G.DataLoader(dataset, { batchSize: 5, dropLast: true }).length).toBe(2);
    expect(() => new G.SlidingWindowDataset([1, 2], 0, 1)).toThrow(/maxLength and stride must be positive integers/);
  });
});
