// prepareTrainingRun and the data behind it, as the CLI's train (corpus.ts over
// @mini/gpt/node) and the web page's worker (textTrainingData) call them: the same windows and
// batches for the same options, from a text, a folder of texts and token shards, with and
// without --stride; each checked against the book's loader or the token stream itself.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import { cpu } from '@mini/tensor';
import { openDatasets, readData } from '../../packages/cli/src/corpus.js';

const verdict = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8');
const TEXT = verdict.slice(0, 6000);
const CONFIG = G.resolveConfig('tiny', { contextLength: 16 });

/** Every batch of `epoch` as plain arrays (inputs and targets). */
async function batches(loader: G.DataLoader, epoch = 0): Promise<number[][][]> {
  const out: number[][][] = [];
  for (const { inputs, targets } of loader.epoch(epoch)) {
    out.push([Array.from(await inputs.toArray()), Array.from(await targets.toArray())]);
    inputs.dispose();
    targets.dispose();
  }
  return out;
}

/** Windows of a dataset as arrays. */
const windows = (d: G.WindowDataset) => Array.from({ length: d.length }, (_, i) => d.item(i));

/** The run the options make, with a check that counts its calls. */
function run(data: G.TrainingData, options: Partial<G.TrainingRunOptions> = {}) {
  return G.prepareTrainingRun({
    config: CONFIG,
    data,
    batchSize: 3,
    seed: 7,
    device: cpu,
    lr: 0.001,
    weightDecay: 0.1,
    ...options,
  });
}

describe('a text (the web page, and train --data under 32 MB)', () => {
  for (const stride of [undefined, 5, 16, 40]) {
    it(`gives the book's loaders (stride ${stride ?? 'default: the context length'}), in the CLI and the library`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-run-'));
      const file = join(dir, 'text.txt');
      writeFileSync(file, TEXT);
      const library = run(G.textTrainingData(TEXT, { trainRatio: 0.8, maxLength: 16, stride }));
      const source = await readData(file);
      expect(source.kind).toBe('text');
      const cliData = await openDatasets(source, dir, 0.8, 16, stride ?? 16, true);
      const cli = run(cliData);
      // The book's create_dataloader_v1 on each split, written out by hand.
      const at = Math.floor(0.8 * TEXT.length);
      const book = (text: string, shuffle: boolean) =>
        G.createDataLoader(text, {
          batchSize: 3,
          maxLength: 16,
          stride: stride ?? 16,
          shuffle,
          dropLast: shuffle,
          seed: 7,
          device: cpu,
        });
      const bookTrain = book(TEXT.slice(0, at), true);
      const bookVal = book(TEXT.slice(at), false);
      expect(library.trainLoader.length).toBe(bookTrain.length);
      expect(library.trainLoader.length).toBeGreaterThan(1);
      for (const epoch of [0, 1]) {
        const expected = await batches(bookTrain, epoch);
        expect(await batches(library.trainLoader, epoch)).toEqual(expected);
        expect(await batches(cli.trainLoader, epoch)).toEqual(expected);
      }
      const expectedVal = await batches(bookVal);
      expect(await batches(library.valLoader)).toEqual(expectedVal);
      expect(await batches(cli.valLoader)).toEqual(expectedVal);
      // Windows every `stride` tokens: the count follows from the split's tokens.
      const trainIds = G.textToIds(TEXT.slice(0, at));
      const data = G.textTrainingData(TEXT, { trainRatio: 0.8, maxLength: 16, stride });
      expect(data.tokens.train).toBe(trainIds.length);
      expect(data.train.length).toBe(Math.floor((trainIds.length - 16 - 1) / (stride ?? 16)) + 1);
      for (const r of [library, cli]) {
        r.model.dispose();
        r.optimizer.dispose();
      }
    });
  }
});

describe('a folder of texts and its token shards (train --data)', () => {
  const root = mkdtempSync(join(tmpdir(), 'mini-gpt-run-folder-'));
  mkdirSync(join(root, 'in'));
  const docs = [verdict.slice(0, 3000), verdict.slice(3000, 7000)];
  writeFileSync(join(root, 'in', 'a.txt'), docs[0]!);
  writeFileSync(join(root, 'in', 'b.txt'), docs[1]!);

  for (const stride of [undefined, 7]) {
    it(`gives the same windows through the CLI and the library, from the folder and from its shards (stride ${stride ?? 'default'})`, async () => {
      const name = `s${stride ?? 0}`;
      const cliSource = await readData(join(root, 'in'));
      expect(cliSource.kind).toBe('texts');
      const cliData = await openDatasets(cliSource, join(root, `cli-${name}`), 0.9, 16, stride ?? 16, true);
      const libSource = await G.readTrainingSource(join(root, 'in'));
      const libData = await G.openTrainingData(libSource, {
        trainRatio: 0.9,
        maxLength: 16,
        stride,
        shardDir: join(root, `lib-${name}`),
      });
      // The shards the CLI wrote, named as train --data <shards>.
      const shardSource = await readData(join(root, `cli-${name}`, 'data'));
      expect(shardSource.kind).toBe('shards');
      const shardData = await openDatasets(shardSource, join(root, 'unused'), 0.9, 16, stride ?? 16, true);
      const expected = windows(libData.train);
      expect(expected.length).toBeGreaterThan(10);
      expect(windows(cliData.train)).toEqual(expected);
      expect(windows(shardData.train)).toEqual(expected);
      expect(windows(cliData.validation)).toEqual(windows(libData.validation));
      expect(windows(shardData.validation)).toEqual(windows(libData.validation));
      // The token stream: end-of-text, then each document's ids; window i starts at i * stride.
      const stream = docs.flatMap((d) => [50256, ...G.textToIds(d)]);
      const step = stride ?? 16;
      for (const i of [0, 1, 5, expected.length - 1])
        expect(expected[i]).toEqual({
          input: stream.slice(i * step, i * step + 16),
          target: stream.slice(i * step + 1, i * step + 17),
        });
      expect(libData.train.length).toBe(Math.floor((libData.tokens.train - 16 - 1) / step) + 1);
      // And the same batches out of prepareTrainingRun.
      const a = run(libData);
      const b = run(cliData);
      expect(await batches(b.trainLoader, 1)).toEqual(await batches(a.trainLoader, 1));
      expect(await batches(b.valLoader)).toEqual(await batches(a.valLoader));
      for (const r of [a, b]) {
        r.model.dispose();
        r.optimizer.dispose();
      }
      for (const d of [cliData, libData, shardData]) d.close();
    });
  }

  it('refuses a folder whose files changed since they were tokenized, naming the label', async () => {
    const source = await G.readTrainingSource(join(root, 'in'));
    const options = { trainRatio: 0.9, maxLength: 16, shardDir: join(root, 'changed'), label: '--data in' };
    (await G.openTrainingData(source, options)).close();
    writeFileSync(join(root, 'in', 'b.txt'), `${docs[1]} more`);
    const changed = await G.readTrainingSource(join(root, 'in'));
    await expect(G.openTrainingData(changed, options)).rejects.toThrow(
      /^--data in: the files changed since this run tokenized them into /,
    );
    await expect(G.openTrainingData(changed, options)).rejects.toBeInstanceOf(G.TrainingDataError);
    writeFileSync(join(root, 'in', 'b.txt'), docs[1]!);
  });
});

describe('prepareTrainingRun', () => {
  const data = G.textTrainingData(TEXT, { trainRatio: 0.9, maxLength: 16, stride: 4 });

  it('runs the check on the loaders before it makes a model, and makes none when the check throws', () => {
    let seen: number | undefined;
    let made = 0;
    const original = G.GPTModel.create;
    G.GPTModel.create = (...args) => {
      made++;
      return original.apply(G.GPTModel, args);
    };
    try {
      expect(() =>
        run(data, {
          check: ({ trainLoader }) => {
            seen = trainLoader.length;
            throw new Error('refused');
          },
        }),
      ).toThrow('refused');
      expect(made).toBe(0);
      const r = run(data, { check: () => {} });
      expect(made).toBe(1);
      expect(seen).toBe(r.trainLoader.length);
      expect(r.state).toEqual(G.initialTrainState());
      expect(r.trainLoader).toMatchObject({ shuffle: true, dropLast: true, seed: 7, batchSize: 3 });
      expect(r.valLoader).toMatchObject({ shuffle: false, dropLast: false, batchSize: 3 });
      r.model.dispose();
      r.optimizer.dispose();
    } finally {
      G.GPTModel.create = original;
    }
  });

  it('continues a saved run: its model, optimizer and state, not new ones', () => {
    const first = run(data);
    const state = { ...G.initialTrainState(), epoch: 2, steps: 9 };
    const again = run(data, { saved: { model: first.model, optimizer: first.optimizer, state } });
    expect(again.model).toBe(first.model);
    expect(again.optimizer).toBe(first.optimizer);
    expect(again.state).toBe(state);
    first.model.dispose();
    first.optimizer.dispose();
  });

  it('makes the model the options name: seed and initialisation as GPTModel.create', async () => {
    const r = run(data, { seed: 11, init: 'gpt2' });
    const direct = G.GPTModel.create(CONFIG, { device: cpu, seed: 11, init: 'gpt2' });
    const name = [...r.model.params.keys()][0]!;
    const a = await r.model.params.get(name)!.data.toArray();
    const b = await direct.params.get(name)!.data.toArray();
    expect(Array.from(a)).toEqual(Array.from(b));
    for (const m of [r.model, direct]) m.dispose();
    r.optimizer.dispose();
  });
});
