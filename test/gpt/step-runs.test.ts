// Step-based runs in trainModel: gradient accumulation equals the large batch, --max-steps
// stops mid-epoch (and a resumed run reaches the same weights), saveEvery fires on time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';

const verdict = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8');
const config = G.resolveConfig('tiny', { contextLength: 16, dropRate: 0 });
const options = { epochs: 1, evalFreq: 1000, evalIter: 1, startContext: '' };
const params = async (model: G.GPTModel) =>
  Promise.all([...model.params.entries()].map(async ([name, p]) => [name, await p.data.toArray()] as const));

describe('gradient accumulation', () => {
  it('one step of 2 micro-batches of 2 equals one step of a batch of 4 (dropout off) to 1e-6', async () => {
    const text = verdict.slice(0, 3000);
    const run = async (batchSize: number, gradAccum: number) => {
      const model = G.GPTModel.create(config, { seed: 7 });
      const optimizer = new G.AdamW(model.params, { lr: 1e-3, weightDecay: 0.1 });
      const loader = G.createDataLoader(text, { batchSize, maxLength: 16, stride: 16, dropLast: true });
      const losses: number[] = [];
      const { state } = await G.trainModel(
        model,
        optimizer,
        loader,
        loader,
        { ...options, maxSteps: 1, gradAccum },
        { onStep: (s) => losses.push(s.loss) },
      );
      const weights = await params(model);
      model.dispose();
      optimizer.dispose();
      return { state, losses, weights };
    };
    const untrained = G.GPTModel.create(config, { seed: 7 });
    const initial = await params(untrained);
    untrained.dispose();
    const big = await run(4, 1);
    // The step really updated the weights (equal weights that never moved would prove nothing).
    const movedBy = big.weights.reduce(
      (m, [, a], k) => Math.max(m, ...Array.from(a, (x, i) => Math.abs(x - initial[k]![1][i]!)).slice(0, 4096)),
      0,
    );
    expect(movedBy).toBeGreaterThan(1e-4);
    const accumulated = await run(2, 2);
    expect(accumulated.state.steps).toBe(1);
    expect(accumulated.state.batch).toBe(2);
    expect(accumulated.state.tokensSeen).toBe(big.state.tokensSeen);
    expect(accumulated.state.tokensSeen).toBe(4 * 16);
    expect(accumulated.losses[0]).toBeCloseTo(big.losses[0]!, 5);
    let worst = 0;
    let moved = 0;
    for (const [k, [name, a]] of big.weights.entries()) {
      const b = accumulated.weights[k]![1];
      expect(accumulated.weights[k]![0]).toBe(name);
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      moved += a.length;
    }
    expect(moved).toBeGreaterThan(0);
    expect(worst).toBeLessThan(1e-6);
  });

  it('a step takes gradAccum batches: an epoch has floor(batches / gradAccum) steps', async () => {
    const model = G.GPTModel.create(config, { seed: 1 });
    const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
    const loader = G.createDataLoader(verdict.slice(0, 2000), {
      batchSize: 1,
      maxLength: 16,
      stride: 16,
      dropLast: true,
    });
    expect(loader.length).toBeGreaterThan(6);
    const { state } = await G.trainModel(model, optimizer, loader, loader, { ...options, gradAccum: 3 });
    expect(state.steps).toBe(Math.floor(loader.length / 3));
    expect(state.tokensSeen).toBe(state.steps * 3 * 16);
    expect(G.stepsPerEpoch(loader, 3)).toBe(state.steps);
    model.dispose();
    optimizer.dispose();
  });
});

describe('maxSteps and saveEvery', () => {
  it('stops mid-epoch at maxSteps (onEnd), saves every n steps, and a resumed run ends on the same weights', async () => {
    const text = verdict.slice(0, 6000);
    const make = () => {
      const model = G.GPTModel.create(config, { seed: 3 });
      const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
      const loader = G.createDataLoader(text, {
        batchSize: 2,
        maxLength: 16,
        stride: 16,
        dropLast: true,
        shuffle: true,
        seed: 5,
      });
      return { model, optimizer, loader };
    };
    const a = make();
    expect(a.loader.length).toBeGreaterThan(12);
    const saves: number[] = [];
    let ended: G.TrainState | null = null;
    const straight = await G.trainModel(
      a.model,
      a.optimizer,
      a.loader,
      a.loader,
      { ...options, epochs: 5, maxSteps: 10, saveEvery: 4 },
      { onSaveDue: (s) => void saves.push(s.steps), onEnd: (s) => void (ended = s) },
    );
    expect(straight.state.steps).toBe(10);
    expect(straight.stopped).toBe(false);
    expect(saves).toEqual([4, 8]);
    expect(ended!.steps).toBe(10);
    expect(straight.state.epoch).toBe(0);
    expect(straight.state.batch).toBe(10);

    // The same run in two pieces: 6 steps, then resumed to 10 from the state (mid-epoch).
    const b = make();
    const first = await G.trainModel(b.model, b.optimizer, b.loader, b.loader, { ...options, epochs: 5, maxSteps: 6 });
    expect(first.state.batch).toBe(6);
    const second = await G.trainModel(
      b.model,
      b.optimizer,
      b.loader,
      b.loader,
      { ...options, epochs: 5, maxSteps: 10 },
      {},
      first.state,
    );
    expect(second.state.steps).toBe(10);
    const fresh = make();
    const w0 = await params(fresh.model);
    fresh.model.dispose();
    fresh.optimizer.dispose();
    const wa = await params(a.model);
    expect(Array.from(wa[0]![1]).some((x, i) => x !== w0[0]![1][i])).toBe(true);
    const wb = await params(b.model);
    for (const [k, [, x]] of wa.entries()) expect(Array.from(wb[k]![1])).toEqual(Array.from(x));
    for (const r of [a, b]) {
      r.model.dispose();
      r.optimizer.dispose();
    }
  });
});
