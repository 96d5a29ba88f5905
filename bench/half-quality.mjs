// What float16 and bfloat16 weights cost in accuracy (README "16-bit weights"), measured on
// the CPU device: the largest |logit difference| against the same model in float32 over a
// prompt, and how many of 50 greedy tokens agree (position of the first difference).
// Models: the tiny golden GPT-2 of test/fixtures/golden-gpt2.json, and a gpt2-small-shaped
// model with GPT-2's initialisation (N(0, 0.02), seed 0).
import { readFileSync } from 'node:fs';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

async function compare(report, name, model, prompt) {
  const device = model.device;
  const logitsOf = async (m) => {
    const out = T.tidy(() => m.eval().forward(T.tensor([prompt], { dtype: 'int32', device })).data);
    const values = await out.toArray();
    out.dispose();
    return values;
  };
  const reference = await logitsOf(model);
  const greedy = await G.generate(model, prompt, { maxNewTokens: 50, temperature: 0 });
  for (const dtype of ['float16', 'bfloat16']) {
    const half = G.convertModel(model, dtype);
    const logits = await logitsOf(half);
    let worst = 0;
    logits.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - reference[i]));
    });
    const tokens = await G.generate(half, prompt, { maxNewTokens: 50, temperature: 0 });
    const firstDiff = tokens.slice(prompt.length).findIndex((t, i) => t !== greedy[prompt.length + i]);
    const short = dtype === 'float16' ? 'f16' : 'bf16';
    report(
      `max_logit_diff_${name}_${short}`,
      'cpu',
      worst,
      '|logit diff|',
      `vs float32 over ${prompt.length} prompt positions`,
    );
    report(
      `greedy_agree_${name}_${short}`,
      'cpu',
      firstDiff < 0 ? 50 : firstDiff,
      'of 50 tokens',
      firstDiff < 0 ? 'all equal' : `first difference at new token ${firstDiff + 1}`,
    );
    half.dispose();
  }
}

export async function halfQualityLines(report) {
  const device = await T.getDevice('cpu');
  const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/golden-gpt2.json', import.meta.url), 'utf8'));
  const variant = Object.values(fixture.variants)[0];
  const weights = new Map(
    Object.entries(variant.params).map(([n, p]) => [n, T.tensor(p.values, { shape: p.shape, device })]),
  );
  const golden = new G.GPTModel(G.resolveConfig(variant.config), device, weights);
  await compare(report, 'golden', golden, fixture.ids[0]);
  golden.dispose();
  const small = G.GPTModel.create(G.resolveConfig('gpt2-small'), { device, seed: 0, init: 'gpt2' });
  await compare(report, '124m', small, G.textToIds('Every effort moves you'));
  small.dispose();
}
