// Trains the tiny preset on a text for five epochs, saves a checkpoint and samples from it.
// Run from the repository root: node docs/examples/train.mjs [text file] [checkpoint folder]
import { readFileSync } from 'node:fs';
import * as G from '@mini/gpt/node'; // '@mini/gpt' without saveCheckpoint & co.
import { getDevice } from '@mini/tensor/node';

const [textFile = 'packages/cli/data/the-verdict.txt', out = 'runs/example'] = process.argv.slice(2);
const device = await getDevice(); // a hardware GPU if there is one, else the CPU
const { train, validation } = G.splitText(readFileSync(textFile, 'utf8'), 0.9);
const loader = (text, more) => G.createDataLoader(text, { batchSize: 2, maxLength: 32, stride: 32, device, ...more });
const config = G.resolveConfig('tiny', { contextLength: 32, tiedHead: false, qkvBias: false });
const model = G.GPTModel.create(config, { device, seed: 123 });
const optimizer = new G.AdamW(model.params, { lr: 4e-3, weightDecay: 0.1 });
const { state } = await G.trainModel(
  model,
  optimizer,
  loader(train, { shuffle: true, dropLast: true }),
  loader(validation),
  { epochs: 5, evalFreq: 100, evalIter: 2, startContext: 'Every effort moves you' },
  {
    onEval: (r) =>
      console.log(
        `Ep ${r.epoch} (Step ${String(r.step).padStart(6, '0')}): Train loss ${r.trainLoss.toFixed(3)}, Val loss ${r.valLoss.toFixed(3)}`,
      ),
    onSample: (s) => console.log(s.text.replace(/\n/g, ' ')),
  },
);
await G.saveCheckpoint(out, model, optimizer, state);
const options = { maxNewTokens: 10, temperature: 1.4, topK: 25, seed: 123 };
console.log(await G.generateText(model, 'Every effort moves you', options));
