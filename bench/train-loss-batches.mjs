// Per-batch training losses of a saved model, in window order: the mean of the first 5 batches
// (what mini-gpt prints as "Train loss") against the mean over all training batches (what the
// book's 5 batches of a reshuffled loader estimate). Usage: node batchloss.mjs MODEL_DIR
import { readFileSync } from 'node:fs';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
const device = await T.getDevice('cpu');
const model = await G.loadModel(process.argv[2], device);
model.eval();
const text = readFileSync('/work/main/packages/cli/data/the-verdict.txt', 'utf8');
const { train } = G.splitText(text, 0.9);
const loader = G.createDataLoader(train, {
  batchSize: 2,
  maxLength: model.config.contextLength,
  stride: model.config.contextLength,
  shuffle: true,
  dropLast: true,
  seed: 1,
  device,
});
const [{ losses }] = await G.batchLosses(model, [{ loader }]);
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
console.log(
  JSON.stringify({
    model: process.argv[2],
    losses: losses.map((x) => +x.toFixed(3)),
    first5: +mean(losses.slice(0, 5)).toFixed(3),
    all: +mean(losses).toFixed(3),
  }),
);
