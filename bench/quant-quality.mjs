// What int8 (q8_0) and int4 (q4_0) weights cost in accuracy (docs/quantized-weights.md),
// measured on the fast CPU device against the same model in float32: the largest |logit
// difference| over a prompt, how many of 50 greedy tokens agree (position of the first
// difference), and the validation loss on The Verdict (the book's 10% validation split,
// windows of the model's context up to 256 tokens, stride = window) with its relative change.
// Models: the tiny golden GPT-2 of test/fixtures/golden-gpt2.json; a gpt2-small-shaped model
// with GPT-2's initialisation (N(0, 0.02), seed 0); and, with --trained <model folder>, the
// model a default book run trains (`npx mini-gpt train` writes <run>/checkpoint).
// Standalone: node bench/quant-quality.mjs [--trained DIR]; `npm run bench -- --big` includes it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

const VERDICT = fileURLToPath(new URL('../packages/cli/data/the-verdict.txt', import.meta.url));

async function validationLoss(model) {
  const { validation } = G.splitText(readFileSync(VERDICT, 'utf8'), 0.9);
  const length = Math.min(256, model.config.contextLength);
  const loader = G.createDataLoader(validation, {
    batchSize: 2,
    maxLength: length,
    stride: length,
    device: model.device,
  });
  return (await G.loaderLoss(model.eval(), loader)).loss;
}

async function compare(report, name, model, prompt, withLoss) {
  const device = model.device;
  const logitsOf = async (m) => {
    const out = T.tidy(() => m.eval().forward(T.tensor([prompt], { dtype: 'int32', device })).data);
    const values = await out.toArray();
    out.dispose();
    return values;
  };
  const reference = await logitsOf(model);
  const top = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const greedy = await G.generate(model, prompt, { maxNewTokens: 50, temperature: 0 });
  const baseLoss = withLoss ? await validationLoss(model) : null;
  if (withLoss) report(`val_loss_${name}_f32`, 'cpu', baseLoss, 'loss', 'The Verdict, validation split');
  for (const dtype of ['int8', 'int4']) {
    const q = await G.quantizeModel(model, dtype);
    const logits = await logitsOf(q);
    let worst = 0;
    logits.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - reference[i]));
    });
    const tokens = await G.generate(q, prompt, { maxNewTokens: 50, temperature: 0 });
    const firstDiff = tokens.slice(prompt.length).findIndex((t, i) => t !== greedy[prompt.length + i]);
    const short = dtype === 'int8' ? 'i8' : 'i4';
    report(
      `max_logit_diff_${name}_${short}`,
      'cpu',
      worst,
      '|logit diff|',
      `vs float32 over ${prompt.length} prompt positions; largest |logit| ${top.toFixed(2)}`,
    );
    report(
      `greedy_agree_${name}_${short}`,
      'cpu',
      firstDiff < 0 ? 50 : firstDiff,
      'of 50 tokens',
      firstDiff < 0 ? 'all equal' : `first difference at new token ${firstDiff + 1}`,
    );
    if (withLoss) {
      const loss = await validationLoss(q);
      report(
        `val_loss_${name}_${short}`,
        'cpu',
        loss,
        'loss',
        `${(((loss - baseLoss) / baseLoss) * 100).toFixed(2)} % vs float32 (${baseLoss.toFixed(4)})`,
      );
    }
    q.dispose();
  }
}

export async function quantQualityLines(report, argv = []) {
  const device = await T.getDevice('cpu');
  const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/golden-gpt2.json', import.meta.url), 'utf8'));
  const variant = Object.values(fixture.variants)[0];
  const weights = new Map(
    Object.entries(variant.params).map(([n, p]) => [n, T.tensor(p.values, { shape: p.shape, device })]),
  );
  const golden = new G.GPTModel(G.resolveConfig(variant.config), device, weights);
  await compare(report, 'golden', golden, fixture.ids[0], false);
  golden.dispose();
  const small = G.GPTModel.create(G.resolveConfig('gpt2-small'), { device, seed: 0, init: 'gpt2' });
  await compare(report, '124m', small, G.textToIds('Every effort moves you'), true);
  small.dispose();
  const at = argv.indexOf('--trained');
  if (at >= 0) {
    const trained = await G.loadModel(argv[at + 1], device, { dtype: 'float32' });
    await compare(report, 'book', trained, G.textToIds('Every effort moves you'), true);
    trained.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`node ${process.version}`);
  await quantQualityLines(
    (name, backend, value, unit, note = '') =>
      console.log(`${name} ${backend} ${Number(value).toFixed(4)} ${unit} ${note}`),
    process.argv.slice(2),
  );
}
