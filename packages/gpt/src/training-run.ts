/**
 * The set-up of a pretraining run, shared by the CLI's `train` and the web page's worker: the
 * training and validation windows (from a text here; from files and token shards in
 * @mini/gpt/node's openTrainingData), their loaders, and a new model with its optimizer (or a
 * saved run's). Both callers then hand the result to trainModel.
 */
import type { Device } from '@mini/tensor';
import { type GPTConfig, resolveConfig } from './config.js';
import { DataLoader, SlidingWindowDataset, type WindowDataset, splitText } from './data.js';
import type { InitScheme } from './init.js';
import { GPTModel, type RandomStream } from './model.js';
import { AdamW } from './optimizer.js';
import { textToIds, textToIdsAsync } from './tokenizer.js';
import { type TrainState, initialTrainState } from './train.js';

/** The windows a run trains and validates on. */
export interface TrainingData {
  train: WindowDataset;
  validation: WindowDataset;
  /** Tokens in each split (before windowing). */
  tokens: { train: number; validation: number };
  /** Where the tokens come from, for a report line ('' for a text held in memory). */
  note: string;
  /** Releases what the windows read from (open shard files); nothing for a text. */
  close(): void;
}

/** How a text or corpus becomes windows. */
export interface WindowOptions {
  /** Share of the text (characters) or corpus (bytes) that trains; the rest validates. In (0, 1). */
  trainRatio: number;
  /** Tokens per window (the model's context length). */
  maxLength: number;
  /** Tokens between window starts (default: maxLength, windows that do not overlap). */
  stride?: number;
}

/**
 * The book's data: `text` split at `trainRatio` of its characters, each part tokenized (GPT-2)
 * and cut into windows of `maxLength` tokens every `stride` tokens.
 * @throws RangeError for a ratio outside (0, 1), or a length or stride that is not a positive integer
 */
export function textTrainingData(text: string, options: WindowOptions): TrainingData {
  const { train, validation } = splitText(text, options.trainRatio);
  return windowedData(textToIds(train), textToIds(validation), options);
}

/**
 * textTrainingData, tokenizing with textToIdsAsync: the event loop gets a turn every 20,000
 * pre-tokens, so a Ctrl-C handler answers while tens of MB are tokenized (same ids).
 */
export async function textTrainingDataAsync(text: string, options: WindowOptions): Promise<TrainingData> {
  const { train, validation } = splitText(text, options.trainRatio);
  return windowedData(await textToIdsAsync(train), await textToIdsAsync(validation), options);
}

/** The two parts' token ids cut into windows (textTrainingData's second half). */
function windowedData(trainIds: number[], validationIds: number[], options: WindowOptions): TrainingData {
  const stride = options.stride ?? options.maxLength;
  return {
    train: new SlidingWindowDataset(trainIds, options.maxLength, stride),
    validation: new SlidingWindowDataset(validationIds, options.maxLength, stride),
    tokens: { train: trainIds.length, validation: validationIds.length },
    note: '',
    close() {},
  };
}

/** A saved run to continue (what loadCheckpoint returns). */
export interface SavedRun {
  model: GPTModel;
  optimizer: AdamW;
  state: TrainState;
}

export interface TrainingRunOptions {
  config: GPTConfig;
  data: TrainingData;
  /** Windows per batch. */
  batchSize: number;
  /** The run seed: initialisation, the training loader's shuffle, dropout. */
  seed: number;
  /** Where the batches and a new model live (default: the default device). */
  device?: Device;
  /** AdamW's settings for a new run (a saved run keeps its optimizer). */
  lr: number;
  weightDecay: number;
  /**
   * A new model's initialisation and random stream (GPTModel.create: defaults 'pytorch' and
   * defaultRandomStream, torch on the CPU devices, fast on WebGPU).
   */
  init?: InitScheme;
  rng?: RandomStream;
  /** Continue this run instead of making a new model. */
  saved?: SavedRun | null;
  /**
   * Called with the loaders before a new model is made: refuse the run here (a split too
   * short, no room for checkpoints) before the model's memory is taken.
   */
  check?: (loaders: { trainLoader: DataLoader; valLoader: DataLoader }) => void;
}

/** What trainModel takes: the model, its optimizer, both loaders and the state to start from. */
export interface TrainingRun {
  model: GPTModel;
  optimizer: AdamW;
  /** Shuffled from the seed, the last short batch dropped (the book's train_loader). */
  trainLoader: DataLoader;
  /** In order, a short last batch kept (the book's val_loader). */
  valLoader: DataLoader;
  state: TrainState;
}

/**
 * The loaders of `options.data`, then (after `options.check`) a new model and AdamW, or the
 * saved run's. A new run starts from initialTrainState().
 * @throws ConfigError for a config resolveConfig refuses; RangeError for a batch size that is
 *   not a positive integer; or what GPTModel.create throws
 */
export function prepareTrainingRun(options: TrainingRunOptions): TrainingRun {
  const { data, batchSize, device, saved } = options;
  // Checked before the loaders are built, so a bad config costs nothing.
  const config = resolveConfig(options.config);
  const trainLoader = new DataLoader(data.train, {
    batchSize,
    device,
    shuffle: true,
    dropLast: true,
    seed: options.seed,
  });
  const valLoader = new DataLoader(data.validation, { batchSize, device, shuffle: false, dropLast: false });
  options.check?.({ trainLoader, valLoader });
  const model =
    saved?.model ?? GPTModel.create(config, { device, seed: options.seed, init: options.init, rng: options.rng });
  const optimizer = saved?.optimizer ?? new AdamW(model.params, { lr: options.lr, weightDecay: options.weightDecay });
  return { model, optimizer, trainLoader, valLoader, state: saved?.state ?? initialTrainState() };
}
