/**
 * The book's data pipeline: text -> token ids -> sliding windows (input, target shifted by
 * one) -> batches, with seeded shuffling and drop-last, and a train/validation split.
 */
import * as T from '@mini/tensor';
import type { Device, Tensor } from '@mini/tensor';
import { runSeeds } from './seeds.js';
import { textToIds, textToIdsAsync } from './tokenizer.js';

/** Splits text at `ratio` of its characters (the book's 0.9 train / 0.1 validation). */
export function splitText(text: string, ratio = 0.9): { train: string; validation: string } {
  if (!(ratio > 0 && ratio < 1)) throw new RangeError(`splitText: ratio must be in (0, 1), got ${ratio}`);
  const at = Math.floor(ratio * text.length);
  return { train: text.slice(0, at), validation: text.slice(at) };
}

/** Input/target windows of `maxLength` tokens every `stride` tokens (GPTDatasetV1). */
export class SlidingWindowDataset {
  readonly starts: number[] = [];

  constructor(
    readonly ids: readonly number[],
    readonly maxLength: number,
    readonly stride: number,
  ) {
    if (!(Number.isInteger(maxLength) && maxLength > 0 && Number.isInteger(stride) && stride > 0)) {
      throw new RangeError(
        `SlidingWindowDataset: maxLength and stride must be positive integers, got ${maxLength} and ${stride}`,
      );
    }
    for (let i = 0; i + maxLength < ids.length; i += stride) this.starts.push(i);
  }

  static fromText(text: string, maxLength: number, stride: number): SlidingWindowDataset {
    return new SlidingWindowDataset(textToIds(text), maxLength, stride);
  }

  /** fromText, tokenizing with textToIdsAsync: signal handlers run while a long text is tokenized. */
  static async fromTextAsync(text: string, maxLength: number, stride: number): Promise<SlidingWindowDataset> {
    return new SlidingWindowDataset(await textToIdsAsync(text), maxLength, stride);
  }

  get length(): number {
    return this.starts.length;
  }

  /** Window i: input ids[s .. s+L) and target ids[s+1 .. s+L]. */
  item(i: number): { input: number[]; target: number[] } {
    const s = this.starts[i]!;
    return { input: this.ids.slice(s, s + this.maxLength), target: this.ids.slice(s + 1, s + this.maxLength + 1) };
  }
}

/**
 * What a DataLoader batches: `length` windows of `maxLength` tokens, window i read by item(i).
 * SlidingWindowDataset holds the ids in memory; ShardDataset (node) reads them from token shards.
 */
export interface WindowDataset {
  readonly length: number;
  readonly maxLength: number;
  item(i: number): { input: number[]; target: number[] };
}

export interface LoaderOptions {
  batchSize: number;
  /** Reorder windows each epoch, from `seed` (the run seed) and the epoch number alone (so resuming repeats it). */
  shuffle?: boolean;
  /** Skip a last batch smaller than batchSize. */
  dropLast?: boolean;
  seed?: number;
  device?: Device;
}

export interface Batch {
  inputs: Tensor; // (B, T) int32
  targets: Tensor; // (B, T) int32
}

export class DataLoader {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly device: Device | undefined;

  constructor(
    readonly dataset: WindowDataset,
    options: LoaderOptions,
  ) {
    if (!(Number.isInteger(options.batchSize) && options.batchSize > 0))
      throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${options.batchSize}`);
    this.batchSize = options.batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.seed = options.seed ?? 0;
    this.device = options.device;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The window order of `epoch` (a seeded Fisher-Yates shuffle, or in order). */
  order(epoch: number): number[] {
    const order = [...Array(this.dataset.length).keys()];
    if (!this.shuffle) return order;
    const random = new T.Generator(runSeeds(this.seed).shuffle);
    random.streamPosition = epoch;
    const u = random.uniform(order.length);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(u[i]! * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  }

  /**
   * Batch `index` of `epoch`, as int32 tensors on the loader's device.
   * @throws RangeError for an epoch or index that is not an integer >= 0, or an index past the
   *   last batch (an empty [0, maxLength] batch before)
   */
  batch(epoch: number, index: number, order?: number[]): Batch {
    if (!(Number.isSafeInteger(epoch) && epoch >= 0))
      throw new RangeError(`DataLoader.batch: epoch must be an integer >= 0, got ${epoch}`);
    const batches = Math.ceil((order?.length ?? this.dataset.length) / this.batchSize);
    if (!(Number.isSafeInteger(index) && index >= 0 && index < batches))
      throw new RangeError(
        `DataLoader.batch: index must be an integer in [0, ${batches}) (the batches of an epoch), got ${index}`,
      );
    order ??= this.order(epoch);
    const picked = order.slice(index * this.batchSize, (index + 1) * this.batchSize).map((i) => this.dataset.item(i));
    const shape = [picked.length, this.dataset.maxLength];
    const tensor = (rows: number[][]) => T.tensor(Int32Array.from(rows.flat()), { shape, device: this.device });
    return { inputs: tensor(picked.map((p) => p.input)), targets: tensor(picked.map((p) => p.target)) };
  }

  /**
   * One pass of PyTorch's DataLoader (num_workers = 0) over these windows, its random numbers
   * drawn from `generator` (the torch stream) as the book's loaders draw them: iter() takes a
   * base seed (an int64 random_(), two words); a shuffled loader's sampler then takes its own
   * seed (two more) and the order is randperm(windows) of a generator seeded with it. Returns
   * the pass's window order (in order when not shuffled).
   */
  torchPass(generator: T.TorchGenerator): number[] {
    generator.randomInt64(); // _BaseDataLoaderIter's _base_seed
    if (!this.shuffle) return [...Array(this.dataset.length).keys()];
    const seed = generator.randomInt64(); // RandomSampler's seed; manual_seed keeps its low 32 bits
    return new T.TorchGenerator(Number(seed & 0xffffffffn)).randperm(this.dataset.length);
  }

  /** Every batch of an epoch, from batch `start` on, in `order` (default: this.order(epoch)). */
  *epoch(epoch: number, start = 0, order = this.order(epoch)): Generator<Batch & { index: number }> {
    for (let index = start; index < this.length; index++) yield { ...this.batch(epoch, index, order), index };
  }
}

/** The book's create_dataloader_v1: tokenise, window, batch. */
export function createDataLoader(
  text: string,
  options: LoaderOptions & { maxLength: number; stride: number },
): DataLoader {
  return new DataLoader(SlidingWindowDataset.fromText(text, options.maxLength, options.stride), options);
}
