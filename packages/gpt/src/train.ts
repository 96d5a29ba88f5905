/**
 * The book's pretraining loop (train_model_simple) with appendix D's extras: epochs over the
 * training loader, AdamW steps, an evaluation every `evalFreq` steps on `evalIter` batches of
 * each loader, tokens seen, a sample after each epoch, events for progress, and a state that
 * resumes exactly where a stopped run left off.
 */
import { MiniGptError } from '@mini/tensor';
import { assertFloat32Weights } from './weight-dtype.js';
import * as T from '@mini/tensor';
import type { Batch, DataLoader } from './data.js';
import { generateText } from './generate.js';
import { batchLoss, batchLosses, meanLoss } from './loss.js';
import { nextTask } from './next-task.js';
import type { GPTModel } from './model.js';
import { type AdamW, type ScheduleOptions, checkSchedule, clipGradNorm, learningRate } from './optimizer.js';
import { ConfigError } from './config.js';
import { StepCapture } from './step-capture.js';

export interface TrainOptions {
  epochs: number;
  /** Evaluate every this many steps (the first step is step 0, as in the book). */
  evalFreq: number;
  /** Batches of each loader per evaluation. */
  evalIter: number;
  /** Text to continue after each epoch ("Every effort moves you"); empty: no sample. */
  startContext: string;
  /** New tokens in each sample (the book: 50, greedy); 0: no sample. */
  sampleTokens?: number;
  /** Learning-rate schedule; lr defaults to the optimizer's. */
  schedule?: Partial<ScheduleOptions>;
  /** Clip gradients to this global L2 norm (appendix D). */
  gradClip?: number;
  /**
   * Polled after every step (and its evaluation, if one is due), after the event loop had a turn
   * to run signal handlers: true stops the run cleanly (state saved by the caller). It may
   * return a promise: a browser worker yields to its event loop there, so a Stop message gets in.
   */
  shouldStop?: () => boolean | Promise<boolean>;
  /**
   * Stop after this many optimizer steps in all (counted from the run's start, so a resumed run
   * stops at the same step); the run ends there as at its last epoch's end (onEnd is called).
   */
  maxSteps?: number;
  /** Call onSaveDue after every this many optimizer steps (a checkpoint mid-epoch). */
  saveEvery?: number;
  /**
   * Micro-batches per optimizer step (gradient accumulation): the gradients of `gradAccum`
   * consecutive batches, each loss scaled by 1 / gradAccum, are summed before one update, so a
   * step equals one on a batch `gradAccum` times larger. An epoch has
   * floor(batches / gradAccum) steps; the batches left over are skipped. Default 1.
   */
  gradAccum?: number;
  /**
   * Read each step's loss one step late: step t+1 (forward, backward, update) is queued before
   * step t's loss is awaited, so a GPU never idles while the host waits for 4 bytes and records
   * the next step. Default: on for a WebGPU model, off on the CPU devices (whose reads do not
   * wait for a queue). The losses, evaluations, checkpoints and their order are the same either
   * way; what changes: onStep for step t comes after step t+1 is queued, a non-finite loss at
   * step t stops the run after step t+1 was queued (NonFiniteLossError with `applied`; nothing
   * of either is saved), and a stop request finishes the step in flight. Every evaluation,
   * save, epoch end and the run's end reads at once.
   */
  deferLossRead?: boolean;
  /**
   * Capture a training step once and replay it (docs/webgpu-host.md, "Capture and replay"): the
   * first step runs eagerly, the second is captured (its forward, backward and gradient
   * clipping), later ones replay it with their own batch and dropout masks, without running the
   * ops' JavaScript; the optimizer's update likewise, with its own learning rate and step. A step of another structure (a short
   * batch) captures anew. The losses and weights are the same bit for bit. Default: on for a
   * WebGPU model unless MINI_GPT_WEBGPU_CAPTURE=0; the CPU devices always run eagerly.
   */
  captureSteps?: boolean;
}

/** Optimizer steps in an epoch of `loader` with `gradAccum` micro-batches per step. */
export function stepsPerEpoch(loader: { length: number }, gradAccum = 1): number {
  return Math.floor(loader.length / gradAccum);
}

export interface LossRecord {
  /** Global step (0-based) at which the evaluation ran. */
  step: number;
  /** 1-based epoch. */
  epoch: number;
  tokensSeen: number;
  trainLoss: number;
  valLoss: number;
}

export interface TrainState {
  /** 0-based epoch in progress and the next batch in it. */
  epoch: number;
  batch: number;
  /** Optimizer steps done. */
  steps: number;
  tokensSeen: number;
  history: LossRecord[];
  /** The model's dropout generator: seed (null until the first step) and position, so a resumed run drops the same elements. */
  dropoutSeed: number | null;
  dropoutStream: number;
  /** The torch stream's generator after the last step (and its evaluation); null with the fast stream. */
  torchRng?: T.TorchGeneratorState | null;
  /** The torch stream: the window order of the epoch in progress (drawn at its start). */
  epochOrder?: number[] | null;
}

export interface TrainEvents {
  onStep?(info: {
    epoch: number;
    step: number;
    batch: number;
    batches: number;
    loss: number;
    lr: number;
    tokensSeen: number;
    seconds: number;
  }): void;
  onEval?(record: LossRecord): void;
  onSample?(sample: { epoch: number; text: string }): void;
  onEpochEnd?(state: TrainState): void | Promise<void>;
  /** Every `saveEvery` steps (not at an epoch's end, where onEpochEnd saves), awaited. */
  onSaveDue?(state: TrainState): void | Promise<void>;
  /** When the run reaches `maxSteps` mid-epoch (no onEpochEnd follows), awaited. */
  onEnd?(state: TrainState): void | Promise<void>;
}

export class NonFiniteLossError extends MiniGptError {
  override name = 'NonFiniteLossError';
  /**
   * `applied`: the loss was read one step late (TrainOptions.deferLossRead), so the step's update
   * and the next step were already queued: the weights in memory hold them, no checkpoint does.
   */
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly applied = false,
  ) {
    super(
      `the training loss became ${loss} at step ${step}; ${applied ? 'the run stopped before saving its update (read one step late, as on WebGPU)' : 'the update was not applied'} (try a lower learning rate or gradient clipping)`,
    );
  }
}

/**
 * Where a run's time went, phase by phase: how many of each and their wall-clock seconds.
 * `lossReads` is inside `steps`: the steps' loss reads and the time the host waited on them.
 */
export type TrainPhase = 'steps' | 'evaluations' | 'samples' | 'epochEnds' | 'saves' | 'lossReads';
export type TrainTimes = Record<TrainPhase, { count: number; seconds: number }>;

/** Starts the clock of one phase; the returned function stops it and adds the time to `times`. */
function timePhase(times: TrainTimes, phase: TrainPhase): () => void {
  const started = performance.now();
  return () => {
    times[phase].count++;
    times[phase].seconds += (performance.now() - started) / 1000;
  };
}

export function initialTrainState(): TrainState {
  return {
    epoch: 0,
    batch: 0,
    steps: 0,
    tokensSeen: 0,
    history: [],
    dropoutSeed: null,
    dropoutStream: 0,
    torchRng: null,
    epochOrder: null,
  };
}

/**
 * The optional counts and sizes of `options`, checked before any step (a NaN gradClip or a
 * gradAccum above the loader's batches would otherwise train wrongly or not at all, silently).
 * @throws ConfigError naming the option and its value
 */
function checkTrainOptions(options: TrainOptions, batches: number): void {
  const integer = (key: 'sampleTokens' | 'maxSteps' | 'saveEvery' | 'gradAccum', min: number) => {
    const value = options[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= min))
      throw new ConfigError(`trainModel: ${key} must be an integer >= ${min}, got ${String(value)}`);
  };
  integer('sampleTokens', 0);
  integer('maxSteps', 1);
  integer('saveEvery', 1);
  integer('gradAccum', 1);
  const { gradClip, gradAccum } = options;
  if (gradClip !== undefined && !(typeof gradClip === 'number' && Number.isFinite(gradClip) && gradClip > 0))
    throw new ConfigError(`trainModel: gradClip must be a finite number > 0, got ${String(gradClip)}`);
  if (gradAccum !== undefined && gradAccum > batches)
    throw new ConfigError(
      `trainModel: gradAccum ${gradAccum} is more than the ${batches} batches an epoch has: no step would run`,
    );
}

/**
 * Runs (or resumes from `state`) the training loop; returns the final state, whether it stopped
 * early, and the time of its phases (steps, evaluations, samples, and the awaited onEpochEnd,
 * where a caller saves its checkpoints).
 * @throws RangeError for a loader with no batch; ConfigError, before any step, for no options
 *   object, epochs, evalFreq or evalIter not integers >= 1, a schedule checkSchedule refuses (a NaN, negative or
 *   string lr; minLr or initialLr above lr), gradClip not a finite number > 0, sampleTokens
 *   not an integer >= 0, maxSteps, saveEvery or gradAccum not integers >= 1, or gradAccum
 *   above the batches of an epoch; NonFiniteLossError when a loss turns NaN or infinite
 */
export async function trainModel(
  model: GPTModel,
  optimizer: AdamW,
  trainLoader: DataLoader,
  valLoader: DataLoader,
  options: TrainOptions,
  events: TrainEvents = {},
  resumeFrom: TrainState = initialTrainState(),
): Promise<{ state: TrainState; stopped: boolean; times: TrainTimes }> {
  // From JavaScript, a missing options object read as "reading 'epochs'" inside.
  if (typeof options !== 'object' || options === null)
    throw new ConfigError(
      `trainModel: options ({epochs, evalFreq, evalIter, ...}) must be an object, got ${String(options)}`,
    );
  assertFloat32Weights('trainModel', model.params, model.quantized);
  // A run that cannot take a step, or would never evaluate, is an error rather than a "finished" state.
  if (trainLoader.length === 0)
    throw new RangeError('trainModel: the training loader has no batch (the text is shorter than one batch)');
  for (const key of ['epochs', 'evalFreq', 'evalIter'] as const)
    if (!Number.isInteger(options[key]) || options[key] < 1)
      throw new ConfigError(`trainModel: ${key} must be an integer >= 1, got ${options[key]}`); // as checkTrainOptions
  checkTrainOptions(options, trainLoader.length);
  const state: TrainState = { ...resumeFrom, history: [...resumeFrom.history] };
  const zero = () => ({ count: 0, seconds: 0 });
  const times: TrainTimes = {
    steps: zero(),
    evaluations: zero(),
    samples: zero(),
    epochEnds: zero(),
    saves: zero(),
    lossReads: zero(),
  };
  const accum = options.gradAccum ?? 1;
  const perEpoch = stepsPerEpoch(trainLoader, accum);
  const maxSteps = options.maxSteps ?? Infinity;
  if (state.dropoutSeed === null) {
    const { seed, stream } = model.dropoutState;
    state.dropoutSeed = seed;
    state.dropoutStream = stream;
  } else {
    model.dropoutState = { seed: state.dropoutSeed, stream: state.dropoutStream };
  }
  // The torch stream: one generator for the masks and the loaders' passes, as the book's
  // global generator; a resumed run continues it where the checkpoint left it.
  const torch = model.torchGenerator;
  if (torch && state.torchRng) torch.state = state.torchRng;
  const schedule: ScheduleOptions = {
    lr: optimizer.lr,
    totalSteps: Math.min(options.epochs * perEpoch, maxSteps),
    ...options.schedule,
  };
  // Before any step: a NaN or negative rate must never reach the weights.
  checkSchedule(schedule);
  if (state.steps >= maxSteps) return { state, stopped: false, times };
  const defer = options.deferLossRead ?? model.device.kind === 'webgpu';
  /** A step whose gradients are recorded and whose loss read has started. */
  interface Recorded {
    step: number;
    epoch: number;
    batch: number;
    lr: number;
    tokens: number;
    tokensSeen: number;
    started: number;
    stepDone: () => void;
    /** The micro-batches' mean losses, (accum) or () float32, on the model's device. */
    losses: T.Tensor;
    values: Promise<T.TypedArray>;
  }
  const unread = new Set<Recorded>();
  let pending: Recorded | null = null;
  let lastReported = 0;
  const steps = new StepCapture(
    model,
    options.captureSteps ?? (model.device.kind === 'webgpu' && T.webgpuCaptureSetting()),
  );
  /**
   * Forward, backward and gradient clipping of one step's micro-batches (no reads: a
   * StepCapture captures it once and replays it); returns their losses, (accum) or ().
   */
  const stepBody = (group: readonly Batch[]): T.Tensor => {
    model.zeroGrad();
    // The micro-batches' losses gather on the device, so a step is one read whatever accum is.
    const gathered = accum === 1 ? null : T.zeros([accum], { device: model.device });
    let single: T.Tensor | null = null;
    for (const [k, batch] of group.entries()) {
      // Each micro-batch's mean loss scaled by 1/accum: the summed gradients are those of the
      // mean over all accum batches (they hold the same number of windows: dropLast).
      const loss = T.tidy(() => {
        const l = batchLoss(model, batch);
        l.backward(accum === 1 ? undefined : T.full(l.shape, 1 / accum, { device: l.data.device }));
        if (!gathered) return l.data;
        T.copyInto(gathered.slice(0, k, k + 1), l.data); // (1) <- ()
        return undefined;
      });
      if (loss) single = loss;
    }
    // Clipping needs no read, so it belongs to the step (read at once, the loss is checked
    // before the update, which is all the check guards).
    if (options.gradClip !== undefined) clipGradNorm(model.params.values(), options.gradClip).dispose();
    return (gathered ?? single)!;
  };
  /** One step's micro-batches recorded (stepBody, maybe replayed); starts the read of their losses. */
  const recordStep = (group: (Batch & { index: number })[]): Recorded => {
    const started = performance.now();
    const stepDone = timePhase(times, 'steps');
    const lr = learningRate(state.steps, schedule);
    let tokens = 0;
    for (const batch of group) tokens += batch.inputs.size;
    let losses: T.Tensor;
    try {
      losses = steps.run(group, `${accum}|${options.gradClip}`, stepBody);
    } finally {
      for (const batch of group) disposeBatch(batch);
    }
    // The read is queued now, behind this step's kernels; awaiting it comes later.
    const values = losses.toArray();
    values.catch(() => {}); // awaited in readLoss; a failure before then is not unhandled
    return {
      step: state.steps,
      epoch: state.epoch + 1,
      batch: group[group.length - 1]!.index,
      lr,
      tokens,
      tokensSeen: state.tokensSeen + tokens,
      started,
      stepDone,
      losses,
      values,
    };
  };
  /** Awaits a step's losses; their mean, checked finite (`applied`: its update is already queued). */
  const readLoss = async (r: Recorded, applied: boolean): Promise<Recorded & { loss: number }> => {
    // What was recorded since (the next step's tail, its update) goes to the device before the
    // host waits, so the device has it to run meanwhile.
    if (applied) model.device.backend.flush();
    const waitStarted = performance.now();
    let read: T.TypedArray;
    try {
      read = await r.values;
    } finally {
      r.losses.dispose();
      unread.delete(r);
      const waited = (performance.now() - waitStarted) / 1000;
      times.lossReads.count++;
      times.lossReads.seconds += waited;
      // A late read waits outside its step's timed part (an at-once read is inside it).
      if (applied) times.steps.seconds += waited;
    }
    // Summed in the order and float64 arithmetic of one item() per micro-batch.
    let loss = 0;
    for (let k = 0; k < accum; k++) loss += read[k]! / accum;
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(r.step, loss, applied);
    return { ...r, loss };
  };
  const report = (r: Recorded & { loss: number }): void => {
    const now = performance.now();
    events.onStep?.({
      epoch: r.epoch,
      step: r.step,
      batch: r.batch,
      batches: perEpoch * accum,
      loss: r.loss,
      lr: r.lr,
      tokensSeen: r.tokensSeen,
      // From the step's start, or from the previous step's report when the two overlapped.
      seconds: (now - Math.max(r.started, lastReported)) / 1000,
    });
    lastReported = now;
  };
  try {
    for (; state.epoch < options.epochs; state.epoch++, state.batch = 0) {
      model.train();
      let order: number[] | undefined;
      if (torch) {
        // A pass starts the epoch (the book's `for ... in train_loader`); resumed mid-epoch, the
        // saved order continues it.
        order = state.batch > 0 && state.epochOrder ? state.epochOrder : trainLoader.torchPass(torch);
        state.epochOrder = order;
      }
      const batches = trainLoader.epoch(state.epoch, state.batch, order);
      // The micro-batches of one step: `accum` batches, or none when fewer are left in the epoch.
      const nextGroup = (): (Batch & { index: number })[] => {
        if (state.batch + accum > perEpoch * accum) return [];
        const group: (Batch & { index: number })[] = [];
        for (let k = 0; k < accum; k++) group.push(batches.next().value as Batch & { index: number });
        return group;
      };
      for (let group = nextGroup(); group.length > 0; group = nextGroup()) {
        const recorded = recordStep(group);
        unread.add(recorded);
        // Read at once (the update waits for the check), or one step late (the update is queued
        // first, and the previous step's loss is read while this one runs on the device).
        const checked = defer ? null : await readLoss(recorded, false);
        steps.update(optimizer, recorded.lr);
        recorded.stepDone();
        const step = state.steps++;
        state.tokensSeen += recorded.tokens;
        state.batch = recorded.batch + 1;
        state.dropoutStream = model.dropoutState.stream;
        if (pending) report(await readLoss(pending, true));
        pending = checked ? null : recorded;
        if (checked) report(checked);
        const atEpochEnd = state.batch + accum > perEpoch * accum;
        const evalDue = step % options.evalFreq === 0;
        const saveDue = !!options.saveEvery && state.steps % options.saveEvery === 0 && state.steps < maxSteps;
        const ends = state.steps >= maxSteps;
        // Everything after a step that is seen outside the loop (an evaluation, a checkpoint, the
        // run's end) starts from a step whose loss was read and checked.
        if (pending && (evalDue || saveDue || ends || atEpochEnd)) {
          report(await readLoss(pending, true));
          pending = null;
        }
        if (evalDue) {
          const evalDone = timePhase(times, 'evaluations');
          const record = await evaluate(model, trainLoader, valLoader, options.evalIter, {
            step,
            epoch: state.epoch + 1,
            tokensSeen: state.tokensSeen,
          });
          evalDone();
          state.history.push(record);
          events.onEval?.(record);
        }
        if (torch) state.torchRng = torch.state;
        if (saveDue && !atEpochEnd) {
          const saveDone = timePhase(times, 'saves');
          await events.onSaveDue?.({ ...state, history: [...state.history] });
          saveDone();
        }
        if (ends && !atEpochEnd) {
          // Mid-epoch: the run ends here (at an epoch's end, the sample and onEpochEnd below end it).
          const saveDone = timePhase(times, 'saves');
          await events.onEnd?.({ ...state, history: [...state.history] });
          saveDone();
          return { state, stopped: false, times };
        }
        await nextTask();
        if (await options.shouldStop?.()) {
          // The step in flight is finished (its loss read and checked): the state returned, which
          // the caller saves, holds every update the weights hold.
          if (pending) report(await readLoss(pending, true));
          pending = null;
          return { state, stopped: true, times };
        }
      }
      batches.return(undefined);
      if (options.startContext && options.sampleTokens !== 0) {
        const sampleDone = timePhase(times, 'samples');
        const text = await generateText(model, options.startContext, { maxNewTokens: options.sampleTokens ?? 50 });
        sampleDone();
        events.onSample?.({ epoch: state.epoch + 1, text });
      }
      const epochEndDone = timePhase(times, 'epochEnds');
      await events.onEpochEnd?.({ ...state, epoch: state.epoch + 1, batch: 0 });
      epochEndDone();
      if (state.steps >= maxSteps)
        return { state: { ...state, epoch: state.epoch + 1, batch: 0 }, stopped: false, times };
    }
    return { state, stopped: false, times };
  } finally {
    for (const r of unread) r.losses.dispose();
    steps.dispose();
  }
}

function disposeBatch(batch: Batch): void {
  batch.inputs.dispose();
  batch.targets.dispose();
}

/** The book's evaluate_model: eval mode, no gradients, the first evalIter batches of each loader (one read-back for both). */
export async function evaluate(
  model: GPTModel,
  trainLoader: DataLoader,
  valLoader: DataLoader,
  evalIter: number,
  at: Omit<LossRecord, 'trainLoss' | 'valLoss'>,
): Promise<LossRecord> {
  const wasTraining = model.training;
  model.eval();
  try {
    // The torch stream: each loader's iteration draws a pass, as the book's calc_loss_loader
    // makes one (none for an empty loader, which it does not iterate).
    const torch = model.torchGenerator;
    const pass = (loader: DataLoader) => (torch && loader.length > 0 ? loader.torchPass(torch) : undefined);
    const trainOrder = pass(trainLoader);
    const valOrder = pass(valLoader);
    const [train, validation] = await batchLosses(model, [
      { loader: trainLoader, maxBatches: evalIter, order: trainOrder },
      { loader: valLoader, maxBatches: evalIter, order: valOrder },
    ]);
    return { ...at, trainLoss: meanLoss(train!.losses), valLoss: meanLoss(validation!.losses) };
  } finally {
    model.train(wasTraining);
  }
}
