import { readFileSync } from 'node:fs';
import * as G from '@mini/gpt';
import { getDevice } from '@mini/tensor/node';

const device = await getDevice();                                  // a GPU if there is one, else the CPU
const text = readFileSync('../shared/data/the-verdict.txt', 'utf8');
const { train, validation } = G.splitText(text, 0.9);
const loader = (t, more) => G.createDataLoader(t, { batchSize: 2, maxLength: 32, stride: 32, device, ...more });
const model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 32, tiedHead: false, qkvBias: false }), { device, seed: 123 });
const optimizer = new G.AdamW(model.params, { lr: 4e-3, weightDecay: 0.1 });
const { state } = await G.trainModel(model, optimizer, loader(train, { shuffle: true, dropLast: true }), loader(validation), {
  epochs: 5, evalFreq: 100, evalIter: 2, startContext: 'Every effort moves you',
}, {
  onEval: (r) => console.log(`Ep ${r.epoch} (Step ${String(r.step).padStart(6, '0')}): Train loss ${r.trainLoss.toFixed(3)}, Val loss ${r.valLoss.toFixed(3)}`),
  onSample: (s) => console.log(s.text.replace(/\n/g, ' ')),
});
await G.saveCheckpoint('runs/example', model, optimizer, state);
console.log(await G.generateText(model, 'Every effort moves you', { maxNewTokens: 10, temperature: 1.4, topK: 25, seed: 123 }));
