// The random streams of a training run (issue 15): the initial weights, the dropout masks and
// the shuffles share no bits, within a run or across seeds; dropout draws a fresh, independent
// mask on every call (across the layers of one step, across steps, batch rows and heads, at the
// book model's shapes); evaluations and samples between steps leave the stream and mode alone.
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';

const p = 0.1;

/** Which elements one dropout call drops (1) on the training device. */
async function dropMask(shape: number[], generator: T.Generator): Promise<Uint8Array> {
  const out = await T.tidy(() => T.dropout(T.ones(shape, { device: T.fastCpu }), p, generator).out).toArray();
  return Uint8Array.from(out, (v) => (v === 0 ? 1 : 0));
}

/**
 * Expects the fraction of the first `length` positions of `a` dropped together with `b` (from
 * `from` on) to be p^2, as independent masks give (the same mask gives p), within five binomial
 * standard errors.
 */
function expectIndependent(a: Uint8Array, b: Uint8Array, from = 0, length = a.length): void {
  let n = 0;
  for (let i = 0; i < length; i++) n += a[i]! & b[from + i]!;
  expect(Math.abs(n / length - p * p)).toBeLessThan(5 * Math.sqrt((p * p * (1 - p * p)) / length));
}

/** Expects p of the mask dropped, within five binomial standard errors. */
function expectRate(m: Uint8Array): void {
  const rate = m.reduce((s, v) => s + v, 0) / m.length;
  expect(Math.abs(rate - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / m.length));
}

/** The window order Fisher-Yates makes from a generator's next stream (as DataLoader.order). */
function fisherYates(n: number, random: T.Generator): number[] {
  const order = [...Array(n).keys()];
  const u = random.uniform(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i]! * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

describe('one run seed, separate random streams', () => {
  const config = G.resolveConfig('tiny', { contextLength: 8, vocabSize: 64 });

  it('the shuffle of epoch e does not reuse the random numbers of the initial weights', () => {
    const text = 'Every effort moves you. '.repeat(60);
    for (const seed of [0, 1, 123]) {
      const loader = G.createDataLoader(text, { batchSize: 2, maxLength: 8, stride: 8, shuffle: true, seed });
      const init = new T.Generator(seed); // what GPTModel.create draws the weights from, stream by stream
      for (let epoch = 0; epoch < 3; epoch++)
        expect(loader.order(epoch)).not.toEqual(fisherYates(loader.dataset.length, init));
    }
  });

  it("no seed's dropout, shuffle or initial-weight generator is another's (seeds 0..999)", () => {
    const seen = new Map<number, string>();
    for (let seed = 0; seed < 1000; seed++) {
      for (const [purpose, s] of Object.entries(G.runSeeds(seed))) {
        expect(seen.get(s), `run ${seed}'s ${purpose} seed ${s}`).toBeUndefined();
        seen.set(s, `${purpose} of run ${seed}`);
      }
    }
    expect(T.foldIn(123, 1)).toBe(T.foldIn(123, 1)); // a function of (seed, data) alone
    expect(() => T.foldIn(-1, 1)).toThrow(/foldIn: seed must be a non-negative safe integer, got -1/);
    expect(() => T.foldIn(1, 2 ** 32)).toThrow(/foldIn: data must be a uint32/);
    const model = G.GPTModel.create(config, { seed: 5, rng: 'fast' });
    expect(model.dropoutState.seed).toBe(G.runSeeds(5).dropout); // the model draws its masks from it
    expect(model.dropoutState.seed).not.toBe(6); // not run 6's initial weights, as seed + 1 was
    model.dispose();
  });
});

describe("dropout masks at the book model's shapes (B = 2, T = 256, C = 768, nh = 12)", () => {
  const residual = [2, 256, 768];
  const attention = [2, 12, 256, 256];

  it('drop p of the elements, a different set on every call (layers, steps), rows and heads independent', async () => {
    const g = new T.Generator(124);
    const first = await dropMask(residual, g);
    const second = await dropMask(residual, g); // the next layer's (or the next step's) call
    expectRate(first);
    expectRate(second);
    expectIndependent(first, second);
    const row = 256 * 768;
    expectIndependent(first, first, row, row); // batch row 0 against row 1

    const weights = await dropMask(attention, g);
    const head = 256 * 256;
    expectRate(weights);
    expectIndependent(weights, weights, head, head); // head 0 against head 1
    expectIndependent(weights, weights, 12 * head, head); // batch row 0 against row 1
  });
});

describe('the dropout stream through a training loop', () => {
  it('takes one stream per dropout call, 1 + 3 per layer each step; evaluations and samples take none', async () => {
    // Small but for the vocabulary (the sample tokenises real text): 4 steps, 4 evaluations, 2 samples.
    const config = G.resolveConfig('tiny', { contextLength: 8, embedDim: 8, tiedHead: false, qkvBias: false });
    const loader = G.createDataLoader('Every effort moves you, said Gisburn, and the picture was his last work.', {
      batchSize: 2,
      maxLength: 8,
      stride: 2,
      shuffle: true,
      dropLast: true,
      seed: 3,
    });
    const model = G.GPTModel.create(config, { seed: 3, rng: 'fast' });
    const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
    const positions: number[] = [];
    const modes: boolean[] = [];
    await G.trainModel(
      model,
      optimizer,
      loader,
      loader,
      { epochs: 2, evalFreq: 1, evalIter: 1, startContext: 'Every effort', sampleTokens: 2 },
      {
        onStep: () => {
          positions.push(model.dropoutState.stream);
          modes.push(model.training);
        },
      },
    );
    const perStep = 1 + 3 * config.nLayers;
    expect(positions.length).toBeGreaterThanOrEqual(4);
    expect(positions).toEqual(positions.map((_, i) => (i + 1) * perStep)); // nothing between steps draws masks
    expect(modes.every(Boolean)).toBe(true); // every step trained in train mode, after evaluations and samples
    model.dispose();
    optimizer.dispose();
  });
});
