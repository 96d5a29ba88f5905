#!/usr/bin/env node
// The book's chapter-5 run (what `npx mini-gpt train` runs by default) from given initial
// weights, with mini-gpt's own random streams for the seed: its dropout masks and its shuffles
// (issue 15: which draw, the initial weights or the streams, separates the two sides' runs).
// The weights come from a model folder, e.g. PyTorch's initialisation written by
//   python3 bench/pytorch_book_run.py book DIR --seed 123 --epochs 0 --save-init FOLDER
// Given the folder of mini-gpt's own seed-S weights, it repeats `mini-gpt train --seed S`'s run.
// Writes one JSON line per evaluation to --out (and prints the book's evaluation lines).
// Usage: node bench/book-from-init.mjs --init FOLDER --out FILE.jsonl [--seed 123]
//        [--epochs 10] [--dropout 0.1] [--data the-verdict.txt]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

const { values: o } = parseArgs({
  options: {
    init: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '123' },
    epochs: { type: 'string', default: '10' },
    dropout: { type: 'string', default: '0.1' },
    data: { type: 'string', default: new URL('../packages/cli/data/the-verdict.txt', import.meta.url).pathname },
  },
});
if (!o.init || !o.out) throw new Error('--init FOLDER and --out FILE are required');
const seed = Number(o.seed);
const device = T.fastCpu;

// The book's recipe, as the CLI's defaults (packages/cli/src/commands/train.ts).
const recipe = { batchSize: 2, lr: 4e-4, weightDecay: 0.1, trainRatio: 0.9, evalFreq: 5, evalIter: 5 };
const loaded = await G.loadModel(o.init, device, { dtype: 'float32' });
// The folder's config may say another dropout (an init/ written for a dropout-off check): the
// recipe's rate, and the seed's dropout generator, as GPTModel.create would give.
const config = { ...loaded.config, dropRate: Number(o.dropout) };
const weights = new Map([...loaded.params].map(([name, p]) => [name, p.data]));
const model = new G.GPTModel(config, device, weights, { seed: G.runSeeds(seed).dropout, stream: 0 });
const { train, validation } = G.splitText(readFileSync(o.data, 'utf8'), recipe.trainRatio);
const loaderOptions = {
  batchSize: recipe.batchSize,
  maxLength: config.contextLength,
  stride: config.contextLength,
  device,
};
const trainLoader = G.createDataLoader(train, { ...loaderOptions, shuffle: true, dropLast: true, seed });
const valLoader = G.createDataLoader(validation, { ...loaderOptions, shuffle: false, dropLast: false });
const optimizer = new G.AdamW(model.params, { lr: recipe.lr, weightDecay: recipe.weightDecay });

const records = [];
const stepLosses = [];
const started = performance.now();
await G.trainModel(
  model,
  optimizer,
  trainLoader,
  valLoader,
  {
    epochs: Number(o.epochs),
    evalFreq: recipe.evalFreq,
    evalIter: recipe.evalIter,
    startContext: '',
  },
  {
    onStep: (s) => {
      stepLosses.push(s.loss);
    },
    onEval: (r) => {
      records.push(r);
      const step = String(r.step).padStart(6, '0');
      console.log(
        `Ep ${r.epoch} (Step ${step}): Train loss ${r.trainLoss.toFixed(3)}, Val loss ${r.valLoss.toFixed(3)} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
      );
      writeFileSync(
        o.out,
        `${JSON.stringify({ seed, init: o.init, epochs: Number(o.epochs), records, stepLosses })}\n`,
      );
    },
  },
);
