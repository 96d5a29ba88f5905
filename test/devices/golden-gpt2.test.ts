// The whole model against an implementation that is not ours, llm.c's test_gpt2.c style:
// test/fixtures/golden-gpt2.json is a tiny GPT-2 in PyTorch float64 (scripts/golden_gpt2.py,
// written from GPT-2's definition), with its logits, loss, the gradient of every parameter and
// the losses of AdamW steps. On every device: load its parameters, run the batch, compare tensor
// by tensor, print the largest difference per tensor.
// Tolerances (|ours - torch| <= atol + rtol |torch|):
// - float64 on the CPU reference: 1e-10 + 1e-8: both sides compute in float64 (the fixture
//   keeps 12 digits), so anything beyond rounding is a wrong formula.
// - float32: logits and loss 1e-5 + 1e-5, gradients 2e-6 + 1e-5 |g|, AdamW losses 5e-6 +
//   1e-6: float32 rounds at 6e-8 relative; ~20 ops deep with sums over C = 16..64 and V = 50,
//   the worst measured differences (every device, both adapters) are logits 2.1e-6,
//   gradients 4e-7, losses 6.6e-7: the bounds leave about 5x, and a wrong formula (a scale,
//   the GELU form, a mask, a missing term) moves values by 1e-3 or more.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';
import { type Tolerance, expectAllClose, maxAbsDiff } from '../helpers/allclose.js';
import { type TestDevice, devicesUnderTest } from '../helpers/devices.js';

interface Stored {
  shape: number[];
  values: number[];
}
interface Variant {
  config: G.GPTConfig;
  params: Record<string, Stored>;
  logits: Stored;
  loss: number;
  grads: Record<string, Stored>;
  adamw: {
    lr: number;
    betas: [number, number];
    eps: number;
    decay: { weightDecay: number; losses: number[] };
    noDecay: { weightDecay: number; losses: number[] };
  };
}
interface Fixture {
  source: string;
  ids: number[][];
  targets: number[][];
  variants: Record<string, Variant>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/golden-gpt2.json', import.meta.url), 'utf8')) as Fixture;
const devices = await devicesUnderTest({ float64: true });

const TOLERANCES: Record<'float32' | 'float64', { logits: Tolerance; grads: Tolerance; losses: Tolerance }> = {
  float64: {
    logits: { atol: 1e-10, rtol: 1e-8 },
    grads: { atol: 1e-10, rtol: 1e-8 },
    losses: { atol: 1e-10, rtol: 1e-8 },
  },
  float32: {
    logits: { atol: 1e-5, rtol: 1e-5 },
    grads: { atol: 2e-6, rtol: 1e-5 },
    losses: { atol: 5e-6, rtol: 1e-6 },
  },
};

function modelFor(v: Variant, { device, dtype }: TestDevice, overrides: Partial<G.GPTConfig> = {}): G.GPTModel {
  const weights = new Map(
    Object.entries(v.params).map(([name, p]) => [name, T.tensor(p.values, { shape: p.shape, dtype, device })]),
  );
  return new G.GPTModel(G.resolveConfig(v.config, overrides), device, weights); // takes the weights
}

const batch = (device: T.Device) => ({
  inputs: T.tensor(fixture.ids, { dtype: 'int32', device }),
  targets: T.tensor(fixture.targets, { dtype: 'int32', device }),
});

/** Losses of AdamW steps as the fixture took them: the loss before each update, then after the last. */
async function adamwLosses(
  model: G.GPTModel,
  device: T.Device,
  adamw: Variant['adamw'],
  weightDecay: number,
): Promise<number[]> {
  const optimizer = new G.AdamW(model.params, { lr: adamw.lr, betas: adamw.betas, eps: adamw.eps, weightDecay });
  const b = batch(device);
  const losses: number[] = [];
  for (let step = 0; step <= 3; step++) {
    model.zeroGrad();
    const loss = T.tidy(() => {
      const l = G.batchLoss(model, b);
      if (step < 3) l.backward();
      return l.data;
    });
    losses.push(await loss.item());
    loss.dispose();
    if (step < 3) optimizer.update();
  }
  optimizer.dispose();
  b.inputs.dispose();
  b.targets.dispose();
  return losses;
}

describe.runIf(devices.length > 0)(`golden GPT-2 from PyTorch (${fixture.source})`, () => {
  const report: string[] = [];
  afterAll(() => console.log(`largest |ours - PyTorch| per tensor:\n${report.join('\n')}`));

  describe.each(devices)('$name', (d) => {
    const tol = TOLERANCES[d.dtype];
    describe.each(Object.keys(fixture.variants))('%s', (name) => {
      const v = fixture.variants[name]!;

      it.each(['fused', 'unfused'])(
        'logits, loss and the gradient of every parameter (%s attention)',
        async (attention) => {
          const model = modelFor(v, d).eval();
          model.fusedAttention = attention === 'fused';
          expect([...model.params.keys()].sort()).toEqual(Object.keys(v.grads).sort());
          const b = batch(d.device);
          const { logits, loss } = T.tidy(() => {
            const out = model.forward(b.inputs);
            const l = A.crossEntropy(out, b.targets);
            l.backward();
            return { logits: out.data, loss: l.data };
          });
          const diffs: string[] = [];
          const check = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, t: Tolerance) => {
            diffs.push(`${what} ${maxAbsDiff(actual, expected).toExponential(1)}`);
            expectAllClose(actual, expected, t, `${d.name} ${name}: ${what}`);
          };
          expect(logits.shape).toEqual(v.logits.shape);
          check('logits', await logits.toArray(), v.logits.values, tol.logits);
          check('loss', [await loss.item()], [v.loss], tol.logits);
          for (const [param, g] of Object.entries(v.grads)) {
            const grad = model.param(param).grad!;
            expect(grad.shape, param).toEqual(g.shape);
            check(param, await grad.toArray(), g.values, tol.grads);
          }
          report.push(`${d.name} ${name} (${attention}): ${diffs.join(', ')}`);
          for (const t of [logits, loss, b.inputs, b.targets]) t.dispose();
          model.dispose();
        },
      );

      it('losses of 3 AdamW steps: weight decay 0.1 in eval mode, none in train mode with dropout 0', async () => {
        const evalModel = modelFor(v, d).eval();
        const decayed = await adamwLosses(evalModel, d.device, v.adamw, v.adamw.decay.weightDecay);
        evalModel.dispose();
        const trainModel = modelFor(v, d, { dropRate: 0 }).train();
        const plain = await adamwLosses(trainModel, d.device, v.adamw, v.adamw.noDecay.weightDecay);
        trainModel.dispose();
        expectAllClose(decayed, v.adamw.decay.losses, tol.losses, `${d.name} ${name}: AdamW losses, weight decay 0.1`);
        expectAllClose(plain, v.adamw.noDecay.losses, tol.losses, `${d.name} ${name}: AdamW losses, no weight decay`);
        // The steps must move the loss, or the comparison proves nothing about the updates.
        expect(v.adamw.decay.losses[3]!).toBeLessThan(v.adamw.decay.losses[0]! - 0.05);
        report.push(
          `${d.name} ${name}: AdamW losses ${maxAbsDiff(decayed, v.adamw.decay.losses).toExponential(1)} (decay), ${maxAbsDiff(plain, v.adamw.noDecay.losses).toExponential(1)} (none)`,
        );
      });
    });
  });
});
