// Capture and replay (docs/webgpu-host.md, "Capture and replay"): the backend sends a captured
// stretch of work again with its dropout streams moved; a buffer the recording used is not
// handed to another tensor while it lives; a read inside a capture throws; and trainModel with
// captured steps gives the losses, evaluations, states and weights of the eager loop bit for
// bit (dropout on, an evaluation between replays, gradient accumulation and clipping, a short
// last batch that captures anew).
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';
import type { GpuStorage, WebGPUBackend } from '../../packages/tensor/src/webgpu/backend.js';
import { webgpuForTests } from '../helpers/devices.js';

const gpu = await webgpuForTests();

const bufferOf = (t: T.Tensor) => (t.storage as unknown as GpuStorage).buffer;

describe.runIf(gpu)('WebGPU capture and replay', () => {
  const device = gpu!;
  const backend = () => device.backend as unknown as WebGPUBackend;
  /** The recording of `fn`'s work (a failure inside leaves no capture open for the next test). */
  const captured = (fn: () => void) => {
    backend().beginCapture();
    try {
      fn();
    } catch (e) {
      backend().abortCapture();
      throw e;
    }
    return backend().endCapture();
  };

  it('replays dropout with the streams moved, as the eager op draws them', async () => {
    const x = T.randn([3, 37], { device, generator: new T.Generator(1) });
    const out = T.zeros([3, 37], { device });
    const g = new T.Generator(9);
    g.streamPosition = 5;
    const recording = captured(() => T.tidy(() => T.copyInto(out, T.mul(T.dropout(x, 0.5, g).out, 2))));
    expect(recording.streamWords).toBeGreaterThan(0);
    const first = await out.toArray();
    for (const delta of [0, 1, 7]) {
      backend().replay(recording, delta);
      const replayed = await out.toArray();
      const h = new T.Generator(9);
      h.streamPosition = 5 + delta;
      const eager = await T.tidy(() => T.mul(T.dropout(x, 0.5, h).out, 2)).toArray();
      expect(replayed).toEqual(eager);
      if (delta > 0) expect(replayed).not.toEqual(first);
    }
    recording.dispose();
    for (const t of [x, out]) t.dispose();
  });

  it('replays the uploads made inside the capture, in their place', async () => {
    const out = T.zeros([8], { device });
    const out2 = T.zeros([8], { device });
    // The second constant's upload takes a buffer the first one's freed (the pool hands out the
    // oldest free buffer): each use must see its own upload again at the replay.
    const recording = captured(() => {
      T.tidy(() => T.copyInto(out, T.add(T.arange(0, 8, 1, { device, dtype: 'float32' }), 1)));
      T.tidy(() => T.copyInto(out2, T.add(T.full([8], 100, { device }), 1)));
    });
    T.tidy(() => T.copyInto(out, T.zeros([8], { device })));
    backend().replay(recording);
    expect(Array.from(await out.toArray())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(await out2.toArray())).toEqual(Array(8).fill(101));
    recording.dispose();
    for (const t of [out, out2]) t.dispose();
  });

  it("sends work queued before a replay in the replay's first command buffer, in order", async () => {
    const x = T.full([5, 33], 2, { device });
    const y = T.zeros([5, 33], { device });
    const out = T.zeros([5, 33], { device });
    const recording = captured(() => T.tidy(() => T.copyInto(out, T.add(T.mul(y, 3), 1))));
    expect(recording.plan.leadingUpload).toBe(false);
    // Queued, not yet submitted, with uniforms of its own (the 7) that the replay's must not
    // overwrite: y = 14, so out = 43 (with the captured 3 in its place, 19).
    T.tidy(() => T.copyInto(y, T.mul(x, 7)));
    const submits = backend().counters.submits;
    backend().replay(recording);
    expect(backend().counters.submits - submits).toBe(recording.plan.images.length);
    expect(Array.from(await out.toArray())).toEqual(Array(165).fill(43));
    recording.dispose();
    for (const t of [x, y, out]) t.dispose();
  });

  it('keeps the buffers a recording used from other tensors until it is disposed', async () => {
    const pinned = backend().poolStats().pinnedBytes; // 0 unless a failed test left a recording
    const x = T.ones([64], { device });
    let y = x;
    const recording = captured(() => {
      y = T.mul(x, 3); // freed after the capture: its buffer must stay the recording's
    });
    const buffer = bufferOf(y);
    y.dispose();
    const taken: T.Tensor[] = [];
    for (let i = 0; i < 8; i++) taken.push(T.zeros([64], { device }));
    expect(taken.some((t) => bufferOf(t) === buffer)).toBe(false);
    expect(backend().poolStats().pinnedBytes).toBeGreaterThan(pinned);
    recording.dispose();
    expect(backend().poolStats().pinnedBytes).toBe(pinned);
    const after = T.zeros([64], { device });
    taken.push(after);
    // Back in the pool: the next tensor of that size class can have it.
    expect(bufferOf(after) === buffer || backend().poolStats().pooledBytes > 0).toBe(true);
    for (const t of [x, ...taken]) t.dispose();
  });

  it('refuses a read, a sync and a second capture inside a capture', async () => {
    const x = T.ones([4], { device });
    backend().beginCapture();
    try {
      await expect(x.toArray()).rejects.toThrow(/inside a captured step/);
      await expect(backend().sync()).rejects.toThrow(/inside a captured step/);
      expect(() => backend().beginCapture()).toThrow(/already in progress/);
    } finally {
      backend().abortCapture();
    }
    expect(Array.from(await x.toArray())).toEqual([1, 1, 1, 1]);
    x.dispose();
  });
});

const config = G.resolveConfig('tiny', { contextLength: 8, vocabSize: 97, dropRate: 0.1 });
const ids = Array.from({ length: 200 }, (_, i) => (i * 37 + ((i * i) % 11)) % 97);

/** A run's losses, evaluations, final state and weights, and how many replays the backend made. */
async function run(
  device: T.Device,
  captureSteps: boolean | undefined,
  extra: Partial<G.TrainOptions> = {},
  dropLast = true,
) {
  const model = G.GPTModel.create(config, { device, seed: 5 });
  const optimizer = new G.AdamW(model.params, { lr: 5e-3, weightDecay: 0.1 });
  // 24 windows of 8: 5 batches of 5 (the last one short of 4 without dropLast).
  const loader = new G.DataLoader(new G.SlidingWindowDataset(ids, 8, 8), {
    batchSize: 5,
    shuffle: true,
    dropLast,
    seed: 2,
    device,
  });
  const counters = (device.backend as unknown as WebGPUBackend).counters;
  const replays = counters.replays;
  const events: unknown[] = [];
  const result = await G.trainModel(
    model,
    optimizer,
    loader,
    loader,
    { epochs: 2, evalFreq: 3, evalIter: 1, startContext: '', captureSteps, ...extra },
    {
      onStep: ({ seconds: _, ...info }) => events.push(info),
      onEval: (r) => events.push(r),
    },
  );
  const weights = await Promise.all([...model.params.values()].map((p) => p.data.toArray()));
  model.dispose();
  optimizer.dispose();
  return { events, state: result.state, weights, replays: counters.replays - replays };
}

describe.runIf(gpu)('trainModel with captured steps', () => {
  const device = gpu!;

  it('gives the eager loop bit for bit, with dropout and evaluations between replays', async () => {
    // The learning rate changes every step (warmup, then cosine): the replayed update's own.
    const extra = { schedule: { warmupSteps: 3, cosine: true } };
    const eager = await run(device, false, extra);
    const captured = await run(device, true, extra);
    expect(eager.replays).toBe(0);
    // 2 epochs of 4 steps: the first eager, the second captured, the rest replayed, and so
    // their updates.
    expect(captured.replays).toBe(6 + 6);
    expect(captured.events.length).toBe(8 + 3);
    expect(captured.events).toEqual(eager.events);
    expect(captured.state).toEqual(eager.state);
    expect(captured.weights).toEqual(eager.weights);
  });

  it('gives the eager loop bit for bit with gradient accumulation, clipping and a read at once', async () => {
    const extra = { gradAccum: 2, gradClip: 0.5, deferLossRead: false };
    const eager = await run(device, false, extra);
    const captured = await run(device, true, extra);
    expect(captured.replays).toBe(2 + 2);
    expect(captured.events).toEqual(eager.events);
    expect(captured.weights).toEqual(eager.weights);
  });

  it('captures anew for a short last batch, and gives the eager loop bit for bit', async () => {
    const eager = await run(device, false, {}, false);
    const captured = await run(device, true, {}, false);
    // 5 steps an epoch, the last of 4 windows: each shape change captures (no replay for it).
    expect(captured.replays).toBeGreaterThan(0);
    expect(captured.events).toEqual(eager.events);
    expect(captured.state).toEqual(eager.state);
    expect(captured.weights).toEqual(eager.weights);
  });

  it('is on by default, and MINI_GPT_WEBGPU_CAPTURE=0 turns it off', async () => {
    const saved = process.env.MINI_GPT_WEBGPU_CAPTURE;
    const runWith = async (value: string | undefined) => {
      if (value === undefined) delete process.env.MINI_GPT_WEBGPU_CAPTURE;
      else process.env.MINI_GPT_WEBGPU_CAPTURE = value;
      // captureSteps left to its default
      return run(device, undefined, { epochs: 1 });
    };
    try {
      const on = await runWith(undefined);
      const off = await runWith('0');
      expect(on.replays).toBeGreaterThan(0);
      expect(off.replays).toBe(0);
      expect(on.weights).toEqual(off.weights);
    } finally {
      if (saved === undefined) delete process.env.MINI_GPT_WEBGPU_CAPTURE;
      else process.env.MINI_GPT_WEBGPU_CAPTURE = saved;
    }
  });

  it('leaves nothing pinned after the run', async () => {
    const stats = () => (device.backend as unknown as WebGPUBackend).poolStats();
    const pinned = stats().pinnedBytes;
    await run(device, true);
    expect(stats().pinnedBytes).toBe(pinned);
  });
});
