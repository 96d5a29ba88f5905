// The WebGPU host path's figures (docs/webgpu-host.md): what one training step and one decoded
// token of the 124M model cost the JavaScript that records them, and how fast they run.
// Used by bench/run.mjs (every run with an adapter, and alone with --webgpu).
//
// - webgpu_dispatches_per_step, _submits_per_step, _reads_per_step, _uploads_per_step,
//   _pipelines_per_step, _buffers_per_step: one training step of the 124M model's structure
//   (12 layers, 12 heads, batch 2 x 256; narrow widths, since the counts depend on the structure only);
// - webgpu_dispatches_per_token: one cached decoded token of the same model;
// - webgpu_bytes_read_per_token: bytes read back a decoded token, greedy, top-k 50 sampling
//   (its candidates, picked on the device) and temperature alone (the logits row);
// - webgpu_host_us_per_dispatch: the main thread's CPU time recording a step replayed (captured
//   once by G.StepCapture, as trainModel does on WebGPU: the batch copied into the captured
//   inputs, the captured dispatches sent again, the losses copied out, AdamW's update replayed; its
//   synchronous stretches, not the awaits; /proc/self/task/<pid>/schedstat on Linux, else the
//   wall time, and the note says so) divided by that step's dispatches: what JavaScript and the
//   Dawn calls it makes cost, without the time the thread was preempted (on a software adapter
//   the submitted work runs on the same cores while JavaScript records);
// - webgpu_host_us_per_dispatch_wall: the same replayed steps' wall time a dispatch;
// - webgpu_host_us_per_dispatch_eager: the CPU time of a step recorded eagerly (every op's
//   JavaScript; what webgpu_host_us_per_dispatch measured before capture and replay);
// - webgpu_reads_per_step / webgpu_loss_wait_ms_per_step (backend webgpu-loop): trainModel's
//   loss reads, one step late (its default on WebGPU) and at once (webgpu-loop-at-once);
// - train_step_124m / generate_50_cache_124m{,_bf16,_f16}: the whole model on a hardware adapter
//   (a software adapter would take minutes a step: it times the narrow model instead, named so),
//   medians over several repetitions after a warm-up.
// Every line names the adapter (vendor, architecture, description).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

/** "vendor / architecture / description" of a WebGPU device, for every line's note. */
export function adapterName(device) {
  const { vendor, architecture, description } = device.info;
  return [vendor || '?', architecture || '?', description].join(' / ');
}

/**
 * The main thread's CPU time, in nanoseconds, as of the wall time `at` (performance.now(); by
 * default the moment this returns), or null where Linux's /proc/self/task/<tid>/schedstat is
 * missing (other systems, or a kernel without schedstats; the main thread's tid is the process
 * id). Its first field, the thread's on-CPU time, moves only at a scheduler tick or when the
 * thread is switched out (ticks are 4 ms here), too coarse for a 15 ms step. So this reads it
 * until it moves (at most 50 ms of spinning, outside the stretch being timed): the thread ran
 * without a break from `at` until the move (a switch-out would itself have moved it), and the
 * move came after the last read of the old value, so the value it moved to, less the wall time
 * from `at` to that read, is the CPU time at `at` (to within one read, a few µs). Measured on
 * busy loops of 1 to 17 ms: within 0.3 ms.
 */
function threadCpuNs(at = null) {
  const read = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  let first;
  try {
    first = read();
  } catch {
    return null;
  }
  const start = performance.now();
  let last = start;
  let now = first;
  for (;;) {
    const t = performance.now();
    now = read();
    if (now !== first || t - start > 50) break;
    last = t;
  }
  return now - (last - (at ?? last)) * 1e6;
}

/** ", load average 1.2" where the system has one (the wall time depends on it), else "". */
function loadAverage() {
  const [one] = loadavg();
  return one > 0 ? `, load average ${one.toFixed(1)}` : '';
}

/** Median of `times`. */
const median = (times) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];

/**
 * One training step recorded as the training loop does (packages/gpt/src/train.ts's order),
 * eagerly or, given a StepCapture (`capture`), captured once and then replayed (trainModel's
 * default on WebGPU): returns the step's loss tensor (not read), the milliseconds of wall time
 * spent recording it, the main thread's CPU milliseconds in that time (null where threadCpuNs
 * has none) and the dispatches it recorded.
 */
function recordStep(model, optimizer, device, shape, capture = null) {
  const dispatches = device.backend.counters.dispatches;
  const cpu = threadCpuNs();
  const t = performance.now();
  const V = model.config.vocabSize;
  const batch = { inputs: T.randint(0, V, shape, { device }), targets: T.randint(0, V, shape, { device }) };
  const body = ([b]) => {
    model.zeroGrad();
    return T.tidy(() => {
      const l = G.batchLoss(model, b);
      l.backward();
      return l.data;
    });
  };
  const loss = capture ? capture.run([batch], 'bench', body) : body([batch]);
  if (capture) capture.update(optimizer, optimizer.lr);
  else optimizer.update();
  batch.inputs.dispose();
  batch.targets.dispose();
  const end = performance.now();
  const ms = end - t;
  const cpuMs = cpu === null ? null : (threadCpuNs(end) - cpu) / 1e6;
  return { loss, ms, cpuMs, dispatches: device.backend.counters.dispatches - dispatches };
}

/**
 * A step as the training loop runs it: record step n, then read step n-1's loss (the deferred
 * read of train.ts); `pending` carries the unread loss between calls.
 */
async function deferredStep(model, optimizer, device, shape, pending, capture = null) {
  const { loss, ms, cpuMs, dispatches } = recordStep(model, optimizer, device, shape, capture);
  if (pending.loss) {
    await pending.loss.item();
    pending.loss.dispose();
  }
  pending.loss = loss;
  return { ms, cpuMs, dispatches };
}

async function drain(device, pending) {
  if (pending.loss) {
    await pending.loss.item();
    pending.loss.dispose();
    pending.loss = null;
  }
  await device.backend.sync();
}

/**
 * The training loop's loss reads (packages/gpt/src/train.ts): `steps` steps of trainModel with
 * the read at once and one step late. Returns, per mode, the reads per step (the backend's reads
 * less the evaluation's) and the milliseconds the host waited on each step's loss read.
 */
async function lossReads(device, config, shape, steps) {
  const [B, L] = shape;
  const ids = Array.from({ length: (steps + 1) * B * L + 1 }, (_, i) => (i * 7919) % config.vocabSize);
  const loader = new G.DataLoader(new G.SlidingWindowDataset(ids, L, L), { batchSize: B, dropLast: true, device });
  const empty = new G.DataLoader(new G.SlidingWindowDataset([], L, L), { batchSize: B, device });
  const out = {};
  for (const deferLossRead of [false, true]) {
    const model = G.GPTModel.create(config, { device, seed: 1 });
    const optimizer = new G.AdamW(model.params, { lr: 4e-4 });
    const reads0 = device.backend.counters.reads;
    const { times } = await G.trainModel(
      model,
      optimizer,
      loader,
      empty,
      { epochs: 1, evalFreq: 1e9, evalIter: 1, startContext: '', maxSteps: steps, deferLossRead },
      {},
    );
    const reads = device.backend.counters.reads - reads0 - times.evaluations.count;
    out[deferLossRead ? 'deferred' : 'atOnce'] = {
      readsPerStep: reads / times.steps.count,
      waitMs: (times.lossReads.seconds * 1000) / times.lossReads.count,
      stepMs: (times.steps.seconds * 1000) / times.steps.count,
    };
    model.dispose();
    optimizer.dispose();
  }
  return out;
}

/**
 * Prints the WebGPU host-path lines for `device` through `report(name, backend, value, unit, note)`;
 * `speed: false`: the counts and host time only.
 */
export async function webgpuHostLines(report, device, { quick = false, reps = 3, speed = true } = {}) {
  const adapter = adapterName(device);
  const backend = device.backend;
  const shape = quick ? [1, 32] : [2, 256];
  const narrow = G.resolveConfig('gpt2-small', { ...G.BOOK_CONFIG_OVERRIDES, embedDim: 48, vocabSize: 2000 });
  const structure = `12-layer 12-head model, batch ${shape.join(' x ')}, narrow widths; ${adapter}`;

  // Counts: one step after a warm-up step (which made the pipelines and pooled the buffers).
  {
    const model = G.GPTModel.create(narrow, { device, seed: 1 });
    const optimizer = new G.AdamW(model.params, { lr: 4e-4 });
    const pending = { loss: null };
    await deferredStep(model, optimizer, device, shape, pending);
    await drain(device, pending);
    const before = { ...backend.counters, created: backend.poolStats().created };
    const record = await deferredStep(model, optimizer, device, shape, pending);
    await drain(device, pending);
    const after = { ...backend.counters, created: backend.poolStats().created };
    const count = (k) => after[k] - before[k];
    report('webgpu_dispatches_per_step', 'webgpu', count('dispatches'), 'dispatches', structure);
    report('webgpu_submits_per_step', 'webgpu', count('submits'), 'submits', structure);
    report('webgpu_reads_per_step', 'webgpu', count('reads'), 'reads', structure);
    report('webgpu_uploads_per_step', 'webgpu', count('uploads'), 'uploads', structure);
    report('webgpu_pipelines_per_step', 'webgpu', count('pipelines'), 'pipelines created', structure);
    report('webgpu_buffers_per_step', 'webgpu', count('created'), 'buffers created', structure);
    // Host time: the median over a few more steps' recording, eager (every op's JavaScript)
    // and replayed (the step captured once, then sent again: trainModel's default on WebGPU).
    // The CPU time is the honest figure: on a software adapter SwiftShader's threads run the
    // submitted kernels on the same cores while the step is recorded, and the wall time counts
    // the stretches the main thread waited for a core.
    const eager = [record];
    for (let i = 0; i < reps + 1; i++) eager.push(await deferredStep(model, optimizer, device, shape, pending));
    await drain(device, pending);
    const capture = new G.StepCapture(model, true, 0);
    await deferredStep(model, optimizer, device, shape, pending, capture); // the capture
    await drain(device, pending);
    const replayed = [];
    for (let i = 0; i < reps + 4; i++)
      replayed.push(await deferredStep(model, optimizer, device, shape, pending, capture));
    await drain(device, pending);
    if (capture.counts.replayed !== replayed.length) throw new Error('bench: the captured step was not replayed');
    capture.dispose();
    const load = loadAverage();
    const cpu = [...eager, ...replayed].every((r) => r.cpuMs !== null);
    const what = cpu ? "the main thread's CPU time (schedstat)" : 'wall time (no per-thread CPU time on this system)';
    const hostLine = (name, records, note, pick) => {
      const n = records[0].dispatches;
      report(
        name,
        'webgpu',
        (median(records.map(pick)) * 1000) / n,
        'µs',
        `${note} / its ${n} dispatches, median of ${records.length}${load}; ${structure}`,
      );
    };
    const replayNote = (kind) =>
      `${kind} recording one training step replayed (captured once: G.StepCapture, as trainModel on WebGPU; the batch copied in, the update replayed too)`;
    hostLine('webgpu_host_us_per_dispatch', replayed, replayNote(what), (r) => (cpu ? r.cpuMs : r.ms));
    hostLine('webgpu_host_us_per_dispatch_wall', replayed, replayNote('wall time'), (r) => r.ms);
    hostLine(
      'webgpu_host_us_per_dispatch_eager',
      eager,
      `${what} recording one training step eagerly (every op's JavaScript)`,
      (r) => (cpu ? r.cpuMs : r.ms),
    );
    // The training loop's loss read, at once (the GPU idles while the host reads and records
    // the update) and one step late (trainModel's default on WebGPU).
    const steps = quick ? 3 : 6;
    const loop = await lossReads(device, narrow, shape, steps);
    const loopNote = (mode) =>
      `trainModel, ${steps} steps (the first evaluates: its read is not counted); ${mode}; ${structure}`;
    report('webgpu_reads_per_step', 'webgpu-loop', loop.deferred.readsPerStep, 'reads', loopNote('one step late'));
    report(
      'webgpu_loss_wait_ms_per_step',
      'webgpu-loop',
      loop.deferred.waitMs,
      'ms',
      loopNote(`one step late: the next step was queued first (${loop.deferred.stepMs.toFixed(0)} ms a step)`),
    );
    report(
      'webgpu_loss_wait_ms_per_step',
      'webgpu-loop-at-once',
      loop.atOnce.waitMs,
      'ms',
      loopNote(`read at once, before the update is queued (${loop.atOnce.stepMs.toFixed(0)} ms a step)`),
    );
    // Decoding: dispatches of one cached token (the prompt's prefill is in both runs).
    const prompt = [1, 2, 3, 4];
    await G.generate(model, prompt, { maxNewTokens: 2 });
    const d0 = backend.counters.dispatches;
    const r0 = backend.counters.reads;
    await G.generate(model, prompt, { maxNewTokens: 1 });
    const d1 = backend.counters.dispatches;
    const r1 = backend.counters.reads;
    await G.generate(model, prompt, { maxNewTokens: 9 });
    const d9 = backend.counters.dispatches;
    const r9 = backend.counters.reads;
    const tokenNote = `12-layer 12-head model, cached greedy decoding, narrow widths; ${adapter}`;
    report('webgpu_dispatches_per_token', 'webgpu', (d9 - d1 - (d1 - d0)) / 8, 'dispatches', tokenNote);
    report('webgpu_reads_per_token', 'webgpu', (r9 - r1 - (r1 - r0)) / 8, 'reads', tokenNote);
    // Bytes read back a token: greedy (argmax and sum), top-k sampling (its candidates), and
    // temperature alone (the whole row: 4 bytes a logit, 2000 here, 50,257 for GPT-2).
    for (const [line, o, what] of [
      ['webgpu', {}, 'cached greedy decoding'],
      ['webgpu-topk50', { temperature: 1, topK: 50 }, 'top-k 50 sampling'],
      ['webgpu-row', { temperature: 1 }, 'temperature-only sampling (the row)'],
    ]) {
      const bytes = async (n) => {
        const b = backend.counters.bytesRead;
        await G.generate(model, prompt, { maxNewTokens: n, ...o });
        return backend.counters.bytesRead - b;
      };
      const perToken = ((await bytes(9)) - (await bytes(1))) / 8;
      report('webgpu_bytes_read_per_token', line, perToken, 'bytes', `${what}, vocab 2000; ${adapter}`);
    }
    model.dispose();
    optimizer.dispose();
  }

  if (!speed) return;
  // Speed: the whole 124M model on a hardware adapter; the narrow one on a software adapter.
  const software = device.info.software;
  const config = software ? narrow : G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES);
  const what = software
    ? `narrow widths (embedDim 48, vocab 2000): a software adapter; ${adapter}`
    : `the 124M model; ${adapter}`;
  const model = G.GPTModel.create(config, { device, seed: 123 });
  {
    const optimizer = new G.AdamW(model.params, { lr: 4e-4 });
    const pending = { loss: null };
    // As trainModel runs on WebGPU: the first step eager, the second captured, then replays.
    const capture = new G.StepCapture(model, true);
    for (let i = 0; i < 2; i++) await deferredStep(model, optimizer, device, shape, pending, capture);
    await drain(device, pending);
    const steps = quick ? 2 : 5;
    const times = [];
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      for (let i = 0; i < steps; i++) await deferredStep(model, optimizer, device, shape, pending, capture);
      await drain(device, pending);
      times.push((performance.now() - t) / 1000 / steps);
    }
    const s = median(times);
    const tokens = shape[0] * shape[1];
    report(
      'train_step_124m',
      'webgpu',
      tokens / s,
      'tokens/s',
      `${(s * 1000).toFixed(1)} ms per step (batch ${shape.join(' x ')}, ${steps} replayed steps, median of ${reps} after a warm-up and the capture); ${what}`,
    );
    capture.dispose();
    optimizer.dispose();
    model.zeroGrad();
  }
  // The narrow model of a software adapter has a 2,000-token vocabulary: its prompt ids are folded
  // into it (generate refuses ids past the vocabulary).
  const prompt = G.textToIds('Every effort moves you').map((id) => id % model.config.vocabSize);
  const tokens = quick ? 8 : 50;
  for (const [dtype, suffix] of [
    ['float32', ''],
    ['bfloat16', '_bf16'],
    ['float16', '_f16'],
  ]) {
    const m = dtype === 'float32' ? model : G.convertModel(model, dtype);
    await G.generate(m, prompt, { maxNewTokens: 5 });
    const times = [];
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      await G.generate(m, prompt, { maxNewTokens: tokens });
      times.push((performance.now() - t) / 1000);
    }
    report(
      `generate_50_cache_124m${suffix}`,
      'webgpu',
      tokens / median(times),
      'tokens/s',
      `${dtype} weights, cached greedy, ${tokens} tokens, median of ${reps} after a warm-up; ${what}`,
    );
    if (m !== model) m.dispose();
  }
  model.dispose();
}
