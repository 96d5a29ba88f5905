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
import { type AdamW, type ScheduleOptions, clipGradNorm, learningRate } from './optimizer.js';

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
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(
      `the training loss became ${loss} at step ${step}; the update was not applied (try a lower learning rate or gradient clipping)`,
    );
  }
}

/** Where a run's time went, phase by phase: how many of each and their wall-clock seconds. */
export type TrainPhase = 'steps' | 'evaluations' | 'samples' | 'epochEnds' | 'saves';
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
 * Runs (or resumes from `state`) the training loop; returns the final state, whether it stopped
 * early, and the time of its phases (steps, evaluations, samples, and the awaited onEpochEnd,
 * where a caller saves its checkpoints).
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
  assertFloat32Weights('trainModel', model.params, model.quantized);
  const state: TrainState = { ...resumeFrom, history: [...resumeFrom.history] };
  const zero = () => ({ count: 0, seconds: 0 });
  const times: TrainTimes = { steps: zero(), evaluations: zero(), samples: zero(), epochEnds: zero(), saves: zero() };
  const accum = options.gradAccum ?? 1;
  if (!(Number.isInteger(accum) && accum > 0))
    throw new RangeError(`trainModel: gradAccum must be a positive integer, got ${accum}`);
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
  if (state.steps >= maxSteps) return { state, stopped: false, times };
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
      const started = performance.now();
      const stepDone = timePhase(times, 'steps');
      const lr = learningRate(state.steps, schedule);
      model.zeroGrad();
      // Each micro-batch's mean loss scaled by 1/accum: the summed gradients are those of the
      // mean over all accum batches (they hold the same number of windows: dropLast).
      let value = 0;
      let tokens = 0;
      for (const batch of group) {
        const loss = T.tidy(() => {
          const l = batchLoss(model, batch);
          l.backward(accum === 1 ? undefined : T.full(l.shape, 1 / accum, { device: l.data.device }));
          return l.data;
        });
        value += (await loss.item()) / accum;
        loss.dispose();
        tokens += batch.inputs.size;
        disposeBatch(batch);
      }
      if (!Number.isFinite(value)) throw new NonFiniteLossError(state.steps, value);
      if (options.gradClip !== undefined) clipGradNorm(model.params.values(), options.gradClip).dispose();
      optimizer.update(lr);
      stepDone();
      const batch = group[group.length - 1]!;
      const step = state.steps++;
      state.tokensSeen += tokens;
      state.batch = batch.index + 1;
      state.dropoutStream = model.dropoutState.stream;
      events.onStep?.({
        epoch: state.epoch + 1,
        step,
        batch: batch.index,
        batches: perEpoch * accum,
        loss: value,
        lr,
        tokensSeen: state.tokensSeen,
        seconds: (performance.now() - started) / 1000,
      });
      if (step % options.evalFreq === 0) {
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
      if (options.saveEvery && state.steps % options.saveEvery === 0 && state.steps < maxSteps) {
        const atEpochEnd = state.batch + accum > perEpoch * accum;
        if (!atEpochEnd) {
          const saveDone = timePhase(times, 'saves');
          await events.onSaveDue?.({ ...state, history: [...state.history] });
          saveDone();
        }
      }
      if (state.steps >= maxSteps && state.batch + accum <= perEpoch * accum) {
        // Mid-epoch: the run ends here (at an epoch's end, the sample and onEpochEnd below end it).
        const saveDone = timePhase(times, 'saves');
        await events.onEnd?.({ ...state, history: [...state.history] });
        saveDone();
        return { state, stopped: false, times };
      }
      await nextTask();
      if (await options.shouldStop?.()) return { state, stopped: true, times };
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
