#!/usr/bin/env node
// The book's chapter-5 run, step by step, for a side-by-side with bench/pytorch_book_run.py
// (issue 15). Writes to --out:
//   data.json         the token ids of the 90/10 split, the training windows' order of each
//                     epoch the steps cover, the recipe (so PyTorch trains on the same batches);
//   init/             the initial weights (model.safetensors, Hugging Face layout) and config;
//   mini-gpt.jsonl    one line per AdamW step: loss, global gradient L2 norm, update L2 norm
//                     (|| p_after - p_before || over every parameter) and each parameter's
//                     gradient norm, all summed in float64 on the host from the float32 tensors.
// Usage: node bench/book-trajectory.mjs --out DIR [--steps 10] [--device cpu|reference]
//        [--dropout 0] [--seed 123] [--data the-verdict.txt]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

const { values: o } = parseArgs({
  options: {
    out: { type: 'string' },
    steps: { type: 'string', default: '10' },
    device: { type: 'string', default: 'cpu' },
    dropout: { type: 'string', default: '0' },
    seed: { type: 'string', default: '123' },
    data: { type: 'string', default: new URL('../../shared/data/the-verdict.txt', import.meta.url).pathname },
  },
});
if (!o.out) throw new Error('--out DIR is required');
const device = { cpu: T.fastCpu, reference: T.cpu }[o.device];
if (!device) throw new Error(`--device must be cpu or reference, got ${o.device}`);
const steps = Number(o.steps);
const seed = Number(o.seed);

// The book's recipe (what `npx mini-gpt train` runs by default).
const recipe = { contextLength: 256, batchSize: 2, lr: 4e-4, weightDecay: 0.1, trainRatio: 0.9 };
const config = G.resolveConfig('gpt2-small', { ...G.BOOK_CONFIG_OVERRIDES, dropRate: Number(o.dropout) });
const { train, validation } = G.splitText(readFileSync(o.data, 'utf8'), recipe.trainRatio);
const loaderOptions = {
  batchSize: recipe.batchSize,
  maxLength: recipe.contextLength,
  stride: recipe.contextLength,
  device,
};
const trainLoader = G.createDataLoader(train, { ...loaderOptions, shuffle: true, dropLast: true, seed });
const epochs = Math.ceil(steps / trainLoader.length);
const model = G.GPTModel.create(config, { device, seed });
mkdirSync(o.out, { recursive: true });
writeFileSync(
  join(o.out, 'data.json'),
  JSON.stringify({
    // The dropout generator's seed: PyTorch can then draw the same masks (stream 0 on).
    recipe: { ...recipe, dropRate: config.dropRate, seed, steps, dropoutSeed: model.dropoutState.seed },
    trainIds: G.textToIds(train),
    valIds: G.textToIds(validation),
    order: Array.from({ length: epochs }, (_, e) => trainLoader.order(e)),
  }),
);
await G.saveModel(join(o.out, 'init'), model);
const optimizer = new G.AdamW(model.params, { lr: recipe.lr, weightDecay: recipe.weightDecay });

/** Sum of squares in float64 of a float32 array. */
function sumSquares(a, b = null) {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = b ? a[i] - b[i] : a[i];
    s += d * d;
  }
  return s;
}

const lines = [];
let step = 0;
for (let epoch = 0; epoch < epochs && step < steps; epoch++) {
  for (const batch of trainLoader.epoch(epoch)) {
    if (step >= steps) break;
    const started = performance.now();
    model.zeroGrad();
    const loss = T.tidy(() => {
      const l = G.batchLoss(model, batch);
      l.backward();
      return l.data;
    });
    const value = await loss.item();
    loss.dispose();
    batch.inputs.dispose();
    batch.targets.dispose();
    const gradNorms = {};
    const before = new Map();
    let grad2 = 0;
    for (const [name, p] of model.params) {
      const g2 = sumSquares(await p.grad.toArray());
      gradNorms[name] = Math.sqrt(g2);
      grad2 += g2;
      before.set(name, Float32Array.from(await p.data.toArray()));
    }
    optimizer.update();
    let update2 = 0;
    for (const [name, p] of model.params) update2 += sumSquares(await p.data.toArray(), before.get(name));
    const line = {
      step,
      epoch,
      batch: batch.index,
      loss: value,
      gradNorm: Math.sqrt(grad2),
      updateNorm: Math.sqrt(update2),
      seconds: (performance.now() - started) / 1000,
      gradNorms,
    };
    lines.push(line);
    process.stdout.write(
      `step ${step}: loss ${value.toFixed(6)} grad norm ${line.gradNorm.toFixed(6)} update norm ${line.updateNorm.toFixed(6)} (${line.seconds.toFixed(1)} s)\n`,
    );
    writeFileSync(join(o.out, 'mini-gpt.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    step++;
  }
}
model.dispose();
optimizer.dispose();
