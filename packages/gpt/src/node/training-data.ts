/**
 * The training data a path names, in Node: a text file (as the book: read whole, split at
 * trainRatio of its characters), a folder of prepared token shards (`mini-gpt prepare`: read
 * through positioned reads, so memory does not grow with the corpus), or a folder of text files
 * (and a text file of 32 MB or more), which is tokenized once into a folder of shards and reused
 * from there. The windows then go to prepareTrainingRun, as the web page's text does.
 */
import { type Stats, existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MiniGptError } from '@mini/tensor';
import { decodeTextFile } from '../text.js';
import { type TrainingData, type WindowOptions, textTrainingDataAsync } from '../training-run.js';
import { type CorpusManifest, expandInputs, prepareCorpus } from './prepare.js';
import { ShardDataset, shardFiles } from './shards.js';
import { fileProblem } from './files.js';

/** A text file at least this large is tokenized into shards rather than held in memory. */
export const SHARD_TEXT_BYTES = 32e6;

/** A path that names no usable training data, or data changed under a run: the user's input (exit 2). */
export class TrainingDataError extends MiniGptError {
  override name = 'TrainingDataError';
  override readonly exitCode = 2;
}

/** What a training-data path names (`path` as given). */
export type TrainingSource =
  | { kind: 'text'; path: string; text: string }
  | { kind: 'shards'; path: string; dir: string }
  | { kind: 'texts'; path: string; files: string[] };

export interface TrainingSourceOptions {
  /** Starts error messages (default: the path; the CLI gives "--data <path>"). */
  label?: string;
  /** Reads a small text file whole (default: UTF-8 without NUL bytes, decodeTextFile). */
  readText?: (path: string) => Promise<string>;
}

/**
 * Classifies `path`: a folder with train_*.bin shards, a folder of text files, a text file of
 * SHARD_TEXT_BYTES or more (streamed into shards), or a smaller text file (read whole).
 * @throws TrainingDataError for a prepared folder without training shards, a folder with no text
 *   files, or a path that cannot be looked at (a loop of links); with the default readText also
 *   for a missing path and a device, pipe or socket (refused before any read)
 */
export async function readTrainingSource(path: string, options: TrainingSourceOptions = {}): Promise<TrainingSource> {
  const label = options.label ?? path;
  let stat: Stats | undefined;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    // A loop of links, a file in the middle of the path: one line, not Node's "ELOOP: ..., stat".
    throw new TrainingDataError(`${label}: ${fileProblem(e as NodeJS.ErrnoException)}`);
  }
  if (stat?.isDirectory()) {
    if (shardFiles(path, 'train').length > 0) return { kind: 'shards', path, dir: path };
    // A prepared folder whose training split is empty is no text folder: its manifest and
    // validation shards must not be read as text.
    if (existsSync(join(path, 'manifest.json')) || shardFiles(path, 'val').length > 0)
      throw new TrainingDataError(
        `${label}: a prepared token-shard folder with no training shards (train_*.bin): prepare more text`,
      );
    const files = expandInputs([path]);
    if (files.length === 0)
      throw new TrainingDataError(`${label}: a folder with no text files and no token shards (train_*.bin) in it`);
    return { kind: 'texts', path, files };
  }
  if (stat?.isFile() && stat.size >= SHARD_TEXT_BYTES) return { kind: 'texts', path, files: [path] };
  if (options.readText) return { kind: 'text', path, text: await options.readText(path) };
  // Checked before reading: /dev/zero has no end and a FIFO with no writer waits for ever.
  if (!stat) throw new TrainingDataError(`${label}: ${fileProblem({ code: 'ENOENT', path } as NodeJS.ErrnoException)}`);
  if (!stat.isFile()) throw new TrainingDataError(`${label}: not a regular file (a device, pipe or socket)`);
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw new TrainingDataError(`${label}: ${fileProblem(e)}`);
  });
  return { kind: 'text', path, text: decodeTextFile(bytes, label) };
}

export interface OpenTrainingDataOptions extends WindowOptions {
  /** Where a folder of texts is tokenized (its shards and manifest.json). */
  shardDir: string;
  /** Starts error messages (default: the source's path). */
  label?: string;
  /**
   * Tokenizes `files` into `dir` with `valShare` of the bytes held out (default: prepareCorpus
   * without progress; the CLI shows a bar).
   */
  tokenize?: (files: readonly string[], dir: string, valShare: number) => Promise<unknown>;
}

/**
 * The training and validation windows of `source`. Text folders are tokenized into
 * `options.shardDir` (validation: the last 1 - trainRatio of the bytes) unless a manifest there
 * lists the same inputs with the same sizes.
 * @throws TrainingDataError when the manifest there lists other inputs (a resumed run would not
 *   see the data it started on)
 */
export async function openTrainingData(
  source: TrainingSource,
  options: OpenTrainingDataOptions,
): Promise<TrainingData> {
  // Async: Ctrl-C during the tokenizing of a long text is answered at once.
  if (source.kind === 'text') return textTrainingDataAsync(source.text, options);
  const label = options.label ?? source.path;
  let dir = source.kind === 'shards' ? source.dir : options.shardDir;
  let note = 'token shards';
  if (source.kind === 'texts') {
    const manifestPath = join(dir, 'manifest.json');
    if (existsSync(manifestPath)) {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as CorpusManifest;
      const same =
        manifest.inputs.length === source.files.length &&
        manifest.inputs.every(
          (input, i) => input.path === source.files[i] && input.bytes === statSync(input.path).size,
        );
      if (!same)
        throw new TrainingDataError(
          `${label}: the files changed since this run tokenized them into ${dir}; start a new run`,
        );
      note = `tokenized once into ${dir}`;
    } else {
      const valShare = 1 - options.trainRatio;
      await (options.tokenize
        ? options.tokenize(source.files, dir, valShare)
        : prepareCorpus(source.files, { out: dir, valShare }));
      note = `tokenized into ${dir}, reused by --resume`;
    }
  } else dir = source.dir;
  const stride = options.stride ?? options.maxLength;
  const train = new ShardDataset(shardFiles(dir, 'train'), options.maxLength, stride);
  const validation = new ShardDataset(shardFiles(dir, 'val'), options.maxLength, stride);
  return {
    train,
    validation,
    tokens: { train: train.tokens, validation: validation.tokens },
    note: `${note}, ${train.tokens.toLocaleString('en-US')} training tokens`,
    close() {
      train.close();
      validation.close();
    },
  };
}
