/**
 * The book's pretraining loop (train_model_simple) with appendix D's extras: epochs over the
 * training loader, AdamW steps, an evaluation every `evalFreq` steps on `evalIter` batches of
 * each loader, tokens seen, a sample after each epoch, events for progress, and a state that
 * resumes exactly where a stopped run left off.
 *
 * The loss is read one step late (docs/webgpu-host.md): step n+1 is recorded (forward, backward,
 * update) before step n's loss is awaited, so a GPU never idles while the host waits for a
 * number. Step events, NaN detection and `shouldStop` therefore act at most one step late: a
 * non-finite loss at step n is noticed after step n+1's update was recorded, and a stop request
 * finishes the step in flight. Steps with an evaluation due, and each epoch's last step, are
 * read at once, so evaluations and samples see exactly the weights of their step.
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
}

/**
 * The training loss was not finite at `step`. The loss is read one step late, so the weights
 * already hold that step's update and, when `stepsApplied` is step + 2, the next step's too:
 * resume from a checkpoint saved before it.
 */
export class NonFiniteLossError extends MiniGptError {
  override name = 'NonFiniteLossError';
  constructor(
    readonly step: number,
    readonly loss: number,
    /** Optimizer steps applied when it was noticed (step + 1, or step + 2 when read one step late). */
    readonly stepsApplied = step + 1,
  ) {
    super(
      `the training loss became ${loss} at step ${step}; noticed after ${stepsApplied} update${stepsApplied === 1 ? '' : 's'} (losses are read one step late), so the weights are not usable (try a lower learning rate or gradient clipping)`,
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
  const times: TrainTimes = { steps: zero(), evaluations: zero(), samples: zero(), epochEnds: zero() };
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
    totalSteps: options.epochs * trainLoader.length,
    ...options.schedule,
  };
  /** A recorded step whose loss is not read yet. */
  interface Pending {
    loss: T.Tensor;
    read: Promise<number>;
    step: number;
    epoch: number;
    batch: number;
    lr: number;
    tokensSeen: number;
    started: number;
    recordMs: number;
  }
  // Reads a recorded step's loss: NaN check, the step event, its evaluation when one is due.
  const settle = async (p: Pending): Promise<void> => {
    const waited = performance.now();
    let value: number;
    try {
      value = await p.read;
    } finally {
      p.loss.dispose();
    }
    times.steps.count++;
    times.steps.seconds += (p.recordMs + performance.now() - waited) / 1000;
    if (!Number.isFinite(value)) throw new NonFiniteLossError(p.step, value, state.steps);
    events.onStep?.({
      epoch: p.epoch + 1,
      step: p.step,
      batch: p.batch,
      batches: trainLoader.length,
      loss: value,
      lr: p.lr,
      tokensSeen: p.tokensSeen,
      seconds: (performance.now() - p.started) / 1000,
    });
    if (p.step % options.evalFreq === 0) {
      const evalDone = timePhase(times, 'evaluations');
      const record = await evaluate(model, trainLoader, valLoader, options.evalIter, {
        step: p.step,
        epoch: p.epoch + 1,
        tokensSeen: p.tokensSeen,
      });
      evalDone();
      state.history.push(record);
      events.onEval?.(record);
    }
  };
  let pending: Pending | null = null;
  try {
    for (; state.epoch < options.epochs; state.epoch++, state.batch = 0) {
      model.train();
      const last = trainLoader.length - 1;
      let order: number[] | undefined;
      if (torch) {
        // A pass starts the epoch (the book's `for ... in train_loader`); resumed mid-epoch, the
        // saved order continues it.
        order = state.batch > 0 && state.epochOrder ? state.epochOrder : trainLoader.torchPass(torch);
        state.epochOrder = order;
      }
      for (const batch of trainLoader.epoch(state.epoch, state.batch, order)) {
        const started = performance.now();
        const lr = learningRate(state.steps, schedule);
        model.zeroGrad();
        const loss = T.tidy(() => {
          const l = batchLoss(model, batch);
          l.backward();
          return l.data;
        });
        const tokens = batch.inputs.size;
        batch.inputs.dispose();
        batch.targets.dispose();
        if (options.gradClip !== undefined) clipGradNorm(model.params.values(), options.gradClip).dispose();
        optimizer.update(lr);
        // The read starts now (a copy into a staging buffer, mapped when the GPU gets there) and
        // is awaited after the next step is recorded.
        const read = loss.item();
        read.catch(() => {}); // awaited in settle(); a failure before then is not unhandled
        const step = state.steps++;
        state.tokensSeen += tokens;
        state.batch = batch.index + 1;
        state.dropoutStream = model.dropoutState.stream;
        const current: Pending = {
          loss,
          read,
          step,
          epoch: state.epoch,
          batch: batch.index,
          lr,
          tokensSeen: state.tokensSeen,
          started,
          recordMs: performance.now() - started,
        };
        const previous = pending;
        pending = current;
        if (previous) await settle(previous);
        // An evaluation due, or the epoch's end (a sample, a checkpoint): read this step now,
        // so what follows sees exactly its weights.
        if (step % options.evalFreq === 0 || batch.index === last) {
          pending = null;
          await settle(current);
        }
        // The torch stream after everything drawn so far (an evaluation draws its loaders' passes).
        if (torch) state.torchRng = torch.state;
        await nextTask();
        if (await options.shouldStop?.()) {
          // Finish the step in flight: the state saved describes every update applied.
          if (pending) {
            const p: Pending = pending;
            pending = null;
            await settle(p);
          }
          return { state, stopped: true, times };
        }
      }
      if (pending) {
        const p: Pending = pending;
        pending = null;
        await settle(p);
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
  } finally {
    // An error (a non-finite loss, a failed evaluation) leaves no read unconsumed.
    if (pending) (pending as Pending).loss.dispose();
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
