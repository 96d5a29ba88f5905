// The training loop reads each step's loss one step late (packages/gpt/src/train.ts): step n+1
// is recorded before step n's loss is awaited. On every device (both software WebGPU adapters
// in their projects): the read really is deferred, a stop request and a non-finite loss still
// stop within one step, and a stopped run's state counts every update applied.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';

const verdict = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8').slice(0, 260);
const config = G.resolveConfig('tiny', { contextLength: 8, dropRate: 0 });
// Seven batches of 1 x 8 tokens; an evaluation only at step 0 (evalFreq 100), so steps 1..5 are read late.
const loader = (device: T.Device) => G.createDataLoader(verdict, { batchSize: 1, maxLength: 8, stride: 8, device });
const options = { epochs: 1, evalFreq: 100, evalIter: 1, startContext: '' };

// The reference CPU is left out: the fast CPU and WebGPU are what this is for.
const devices = (await devicesUnderTest()).filter((d) => !d.isReference);

describe.each(devices)('deferred loss read on $name', ({ device }) => {
  it('reports step n after step n+1 was recorded, with the same losses in order', async () => {
    const model = G.GPTModel.create(config, { device, seed: 3 });
    const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
    const seen: { step: number; applied: number; loss: number }[] = [];
    const { state } = await G.trainModel(model, optimizer, loader(device), loader(device), options, {
      onStep: (s) => seen.push({ step: s.step, applied: optimizer.step, loss: s.loss }),
    });
    const n = state.steps;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(seen.map((s) => s.step)).toEqual([...Array(n).keys()]);
    // Step 0 (an evaluation) and the epoch's last step are read at once; the others one step late.
    expect(seen[0]!.applied).toBe(1);
    for (let i = 1; i < n - 1; i++) expect(seen[i]!.applied).toBe(i + 2);
    expect(seen[n - 1]!.applied).toBe(n);
    for (const s of seen) expect(Number.isFinite(s.loss)).toBe(true);
    model.dispose();
    optimizer.dispose();
  });

  it('a stop request (Ctrl-C) stops within one step, and the state counts every update', async () => {
    const model = G.GPTModel.create(config, { device, seed: 3 });
    const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
    let requested = false;
    const reported: number[] = [];
    const { state, stopped } = await G.trainModel(
      model,
      optimizer,
      loader(device),
      loader(device),
      { ...options, shouldStop: () => requested },
      {
        onStep: (s) => {
          reported.push(s.step);
          if (s.step === 1) requested = true;
        },
      },
    );
    expect(stopped).toBe(true);
    // Step 1 was reported when step 2 was in flight: the run stops after step 2, not later.
    expect(state.steps).toBe(3);
    expect(optimizer.step).toBe(state.steps);
    expect(reported).toEqual([0, 1, 2]);
    expect(state.batch).toBe(3);
    model.dispose();
    optimizer.dispose();
  });

  it('a non-finite loss stops the run within one step, naming its step', async () => {
    const model = G.GPTModel.create(config, { device, seed: 3 });
    const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
    const run = G.trainModel(model, optimizer, loader(device), loader(device), options, {
      onStep: (s) => {
        // After step 0's report (read at once: an evaluation), poison the positions: step 1's loss is NaN.
        if (s.step === 0)
          T.copyInto(model.param('wpe.weight').data.slice(0, 0, 1), T.full([1, 32], Infinity, { device }));
      },
    });
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(G.NonFiniteLossError);
    const e = error as G.NonFiniteLossError;
    expect(e.step).toBe(1);
    expect(Number.isNaN(e.loss)).toBe(true);
    // Noticed after step 2's update was recorded: one step late, never more.
    expect(e.stepsApplied).toBe(3);
    expect(optimizer.step).toBe(3);
    expect(e.message).toMatch(/at step 1; noticed after 3 updates \(losses are read one step late\)/);
    model.dispose();
    optimizer.dispose();
  });
});
