/**
 * The book's pretraining loop (train_model_simple) with appendix D's extras: epochs over the
 * training loader, AdamW steps, an evaluation every `evalFreq` steps on `evalIter` batches of
 * each loader, tokens seen, a sample after each epoch, events for progress, and a state that
 * resumes exactly where a stopped run left off.
 */
import { MiniGptError } from '@mini/tensor';
import { assertFloat32Weights } from './weight-dtype.js';
import * as T from '@mini/tensor';
import type { DataLoader } from './data.js';
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
export type TrainPhase = 'steps' | 'evaluations' | 'samples' | 'epochEnds';
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
  return { epoch: 0, batch: 0, steps: 0, tokensSeen: 0, history: [], dropoutSeed: null, dropoutStream: 0 };
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
  assertFloat32Weights('trainModel', model.params);
  const state: TrainState = { ...resumeFrom, history: [...resumeFrom.history] };
  const zero = () => ({ count: 0, seconds: 0 });
  const times: TrainTimes = { steps: zero(), evaluations: zero(), samples: zero(), epochEnds: zero() };
  if (state.dropoutSeed === null) {
    const { seed, stream } = model.dropoutState;
    state.dropoutSeed = seed;
    state.dropoutStream = stream;
  } else {
    model.dropoutState = { seed: state.dropoutSeed, stream: state.dropoutStream };
  }
  const schedule: ScheduleOptions = {
    lr: optimizer.lr,
    totalSteps: options.epochs * trainLoader.length,
    ...options.schedule,
  };
  for (; state.epoch < options.epochs; state.epoch++, state.batch = 0) {
    model.train();
    for (const batch of trainLoader.epoch(state.epoch, state.batch)) {
      const started = performance.now();
      const stepDone = timePhase(times, 'steps');
      const lr = learningRate(state.steps, schedule);
      model.zeroGrad();
      const loss = T.tidy(() => {
        const l = batchLoss(model, batch);
        l.backward();
        return l.data;
      });
      const value = await loss.item();
      loss.dispose();
      const tokens = batch.inputs.size;
      batch.inputs.dispose();
      batch.targets.dispose();
      if (!Number.isFinite(value)) throw new NonFiniteLossError(state.steps, value);
      if (options.gradClip !== undefined) clipGradNorm(model.params.values(), options.gradClip).dispose();
      optimizer.update(lr);
      stepDone();
      const step = state.steps++;
      state.tokensSeen += tokens;
      state.batch = batch.index + 1;
      state.dropoutStream = model.dropoutState.stream;
      events.onStep?.({
        epoch: state.epoch + 1,
        step,
        batch: batch.index,
        batches: trainLoader.length,
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
      await nextTask();
      if (await options.shouldStop?.()) return { state, stopped: true, times };
    }
    if (options.startContext && options.sampleTokens !== 0) {
      const sampleDone = timePhase(times, 'samples');
      const text = await generateText(model, options.startContext, { maxNewTokens: options.sampleTokens ?? 50 });
      sampleDone();
      events.onSample?.({ epoch: state.epoch + 1, text });
    }
    const epochEndDone = timePhase(times, 'epochEnds');
    await events.onEpochEnd?.({ ...state, epoch: state.epoch + 1, batch: 0 });
    epochEndDone();
  }
  return { state, stopped: false, times };
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
    const [train, validation] = await batchLosses(model, [
      { loader: trainLoader, maxBatches: evalIter },
      { loader: valLoader, maxBatches: evalIter },
    ]);
    return { ...at, trainLoss: meanLoss(train!.losses), valLoss: meanLoss(validation!.losses) };
  } finally {
    model.train(wasTraining);
  }
}
