// The training loop's one-step-late loss read (TrainOptions.deferLossRead) on every device:
// the CPU reference and fast CPU in the core project, WebGPU on SwiftShader and on llvmpipe in
// theirs. Deferred and at-once runs give the same losses, evaluations, checkpoint states and
// weights bit for bit; the deferred one really queues step t+1 before it reports step t; a
// NaN at step k stops at k (at once) or after k+1 was queued (deferred) with a clear message;
// a stop request stops within one step, with a state that resumes to the uninterrupted run.
// Small shapes (2 layers, width 32, 8 tokens, a 97-token vocabulary): SwiftShader is slow.
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';

const config = G.resolveConfig('tiny', { contextLength: 8, vocabSize: 97, dropRate: 0.1 });
// 169 tokens: 21 windows of 8, 10 batches of 2 (dropLast), 5 steps of 2 micro-batches an epoch.
const ids = Array.from({ length: 169 }, (_, i) => (i * 37 + ((i * i) % 11)) % 97);
const options = { epochs: 2, evalFreq: 4, evalIter: 1, startContext: '', gradAccum: 2, saveEvery: 3 };

function setup(device: T.Device) {
  const model = G.GPTModel.create(config, { device, seed: 3 });
  const optimizer = new G.AdamW(model.params, { lr: 5e-3, weightDecay: 0.1 });
  const loader = new G.DataLoader(new G.SlidingWindowDataset(ids, 8, 8), {
    batchSize: 2,
    shuffle: true,
    dropLast: true,
    seed: 3,
    device,
  });
  // The updates queued, so an event can tell how far the loop had recorded (the optimizer's
  // step: a replayed update, trainModel's default on WebGPU, counts it without calling update()).
  return { model, optimizer, loader, updates: () => optimizer.step };
}

/** Everything a run shows outside: its events in order, the saved states, the final weights. */
async function run(device: T.Device, deferLossRead: boolean | undefined, extra: Partial<G.TrainOptions> = {}) {
  const { model, optimizer, loader, updates } = setup(device);
  const events: [string, unknown][] = [];
  const lateBy: number[] = []; // per onStep: updates queued beyond the reported step
  const strip = (s: G.TrainState) => ({ ...s, history: s.history.length });
  const result = await G.trainModel(
    model,
    optimizer,
    loader,
    loader,
    { ...options, ...extra, deferLossRead },
    {
      onStep: ({ seconds: _, ...info }) => {
        events.push(['step', info]);
        lateBy.push(updates() - (info.step + 1));
      },
      onEval: (r) => events.push(['eval', r]),
      onSaveDue: (s) => void events.push(['save', strip(s)]),
      onEpochEnd: (s) => void events.push(['epochEnd', strip(s)]),
    },
  );
  const weights = await Promise.all([...model.params.values()].map((p) => p.data.toArray()));
  model.dispose();
  optimizer.dispose();
  return { events, lateBy, state: result.state, weights };
}

describe.each(await devicesUnderTest())('deferred loss read on $name', ({ device }) => {
  it('gives the same losses, evaluations, saved states and weights as reading at once', async () => {
    const atOnce = await run(device, false);
    const deferred = await run(device, true);
    expect(atOnce.lateBy.every((n) => n === 0)).toBe(true);
    // Deferred for real: some step was reported after the next one's update was queued.
    expect(deferred.lateBy.some((n) => n === 1)).toBe(true);
    expect(deferred.lateBy.every((n) => n === 0 || n === 1)).toBe(true);
    expect(deferred.events.filter(([kind]) => kind === 'step' || kind === 'eval').length).toBe(10 + 3);
    expect(deferred.events).toEqual(atOnce.events);
    expect(deferred.state).toEqual(atOnce.state);
    expect(deferred.weights).toEqual(atOnce.weights);
  });

  it('is the default on WebGPU only', async () => {
    const byDefault = await run(device, undefined, { epochs: 1, maxSteps: 3 });
    expect(byDefault.lateBy.some((n) => n === 1)).toBe(device.kind === 'webgpu');
  });

  for (const deferLossRead of [false, true]) {
    it(`a NaN at step 2 stops the run at step ${deferLossRead ? '2 after step 3 was queued' : '2 before its update'}`, async () => {
      const { model, optimizer, loader, updates } = setup(device);
      // After step 1's update, one weight becomes NaN: step 2's loss is the first NaN. (Polled
      // after every step, before the next is recorded: the NaN is written between steps, as
      // step 2 would find it after an update that made it.)
      let poisoned = false;
      const shouldStop = () => {
        if (updates() === 2 && !poisoned) {
          T.tidy(() => T.copyInto(model.param('wpe.weight').data.slice(0, 0, 1), T.full([1, 32], NaN, { device })));
          poisoned = true;
        }
        return false;
      };
      const steps: number[] = [];
      const error = await G.trainModel(
        model,
        optimizer,
        loader,
        loader,
        { ...options, evalFreq: 100, saveEvery: undefined, deferLossRead, shouldStop },
        { onStep: (s) => steps.push(s.step) },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(G.NonFiniteLossError);
      const e = error as G.NonFiniteLossError;
      expect(e.step).toBe(2);
      expect(e.applied).toBe(deferLossRead);
      expect(e.message).toMatch(
        deferLossRead
          ? /^the training loss became NaN at step 2; the run stopped before saving its update \(read one step late/
          : /^the training loss became NaN at step 2; the update was not applied/,
      );
      expect(steps).toEqual([0, 1]);
      expect(updates()).toBe(deferLossRead ? 4 : 2);
      model.dispose();
      optimizer.dispose();
    });

    it(`a stop request stops within one step and resumes to the same run (${deferLossRead ? 'deferred' : 'at once'})`, async () => {
      const straight = await run(device, deferLossRead, { epochs: 1 });
      const { model, optimizer, loader, updates } = setup(device);
      const events: [string, unknown][] = [];
      let asked: number | null = null;
      const opts = { ...options, epochs: 1, deferLossRead };
      const onStep = ({ seconds: _, ...info }: Parameters<NonNullable<G.TrainEvents['onStep']>>[0]) => {
        events.push(['step', info]);
      };
      const onEval = (r: G.LossRecord) => events.push(['eval', r]);
      const onSaveDue = (s: G.TrainState) => void events.push(['save', { ...s, history: s.history.length }]);
      const onEpochEnd = (s: G.TrainState) => void events.push(['epochEnd', { ...s, history: s.history.length }]);
      const first = await G.trainModel(
        model,
        optimizer,
        loader,
        loader,
        {
          ...opts,
          // A signal that arrives as step 1 is reported (Ctrl-C sets such a flag).
          shouldStop: () => asked !== null,
        },
        {
          onStep: (s) => {
            onStep(s);
            if (s.step === 1) asked = updates();
          },
        },
      );
      expect(first.stopped).toBe(true);
      // Within one step: at most the step queued when the signal came is finished.
      expect(first.state.steps).toBe(asked);
      expect(first.state.steps).toBe(deferLossRead ? 3 : 2);
      expect(updates()).toBe(first.state.steps);
      const second = await G.trainModel(
        model,
        optimizer,
        loader,
        loader,
        opts,
        { onStep, onEval, onSaveDue, onEpochEnd },
        first.state,
      );
      const weights = await Promise.all([...model.params.values()].map((p) => p.data.toArray()));
      // The first part's evaluations are in the state's history; compare the steps and the rest.
      const steps = (list: [string, unknown][]) => list.filter(([kind]) => kind === 'step');
      expect(steps(events)).toEqual(steps(straight.events));
      expect(second.state).toEqual(straight.state);
      expect(weights).toEqual(straight.weights);
      model.dispose();
      optimizer.dispose();
    });
  }
});
