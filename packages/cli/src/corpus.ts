/**
 * What train --data names: a text file (as the book: read whole, split at --train-ratio of its
 * characters), a folder of prepared token shards (`mini-gpt prepare`: read through positioned
 * reads, so memory does not grow with the corpus), or a folder of text files (and a text file
 * of 32 MB or more), which is tokenized once into the run folder's data/ as shards, with the
 * same progress as prepare, and reused by --resume.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { tokenizeWithProgress } from './commands/prepare.js';
import { readTextFile } from './read-text.js';
import { UsageError } from './ui.js';

/** A text file at least this large is tokenized into shards rather than held in memory. */
export const CACHE_BYTES = 32e6;

export type DataSource =
  | { kind: 'text'; path: string; text: string }
  | { kind: 'shards'; path: string; dir: string }
  | { kind: 'texts'; path: string; files: string[] };

/** Classifies and checks --data (usage errors name the flag), reading a small text file whole. */
export async function readData(path: string): Promise<DataSource> {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory()) {
    if (G.shardFiles(path, 'train').length > 0) return { kind: 'shards', path, dir: path };
    // A prepared folder whose training split is empty is no text folder: its manifest and
    // validation shards must not be read as text.
    if (existsSync(join(path, 'manifest.json')) || G.shardFiles(path, 'val').length > 0)
      throw new UsageError(
        `--data ${path}: a prepared token-shard folder with no training shards (train_*.bin): prepare more text`,
      );
    const files = G.expandInputs([path]);
    if (files.length === 0)
      throw new UsageError(`--data ${path}: a folder with no text files and no token shards (train_*.bin) in it`);
    return { kind: 'texts', path, files };
  }
  if (stat?.isFile() && stat.size >= CACHE_BYTES) return { kind: 'texts', path, files: [path] };
  return { kind: 'text', path, text: await readTextFile(path, '--data') };
}

export interface Datasets {
  train: G.WindowDataset;
  validation: G.WindowDataset;
  /** Where the tokens come from, for the run's data line. */
  note: string;
  close(): void;
}

/**
 * The training and validation windows of `source`. Text folders are tokenized into
 * `<out>/data` (validation: the last 1 - trainRatio of the bytes) unless a manifest there lists
 * the same inputs with the same sizes; a changed input is a usage error (a resumed run would
 * not see the data it started on).
 */
export async function openDatasets(
  source: DataSource,
  out: string,
  trainRatio: number,
  maxLength: number,
  stride: number,
  quiet: boolean,
): Promise<Datasets> {
  if (source.kind === 'text') {
    const { train, validation } = G.splitText(source.text, trainRatio);
    return {
      // Tokenized with turns for the event loop: Ctrl-C during tens of MB is answered at once.
      train: await G.SlidingWindowDataset.fromTextAsync(train, maxLength, stride),
      validation: await G.SlidingWindowDataset.fromTextAsync(validation, maxLength, stride),
      note: '',
      close() {},
    };
  }
  let dir = source.kind === 'shards' ? source.dir : join(out, 'data');
  let note = 'token shards';
  if (source.kind === 'texts') {
    const manifestPath = join(dir, 'manifest.json');
    if (existsSync(manifestPath)) {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as G.CorpusManifest;
      const same =
        manifest.inputs.length === source.files.length &&
        manifest.inputs.every(
          (input, i) => input.path === source.files[i] && input.bytes === statSync(input.path).size,
        );
      if (!same)
        throw new UsageError(
          `--data ${source.path}: the files changed since this run tokenized them into ${dir}; start a new run`,
        );
      note = `tokenized once into ${dir}`;
    } else {
      await tokenizeWithProgress(source.files, dir, 1 - trainRatio, quiet);
      note = `tokenized into ${dir}, reused by --resume`;
    }
  } else dir = source.dir;
  const train = new G.ShardDataset(G.shardFiles(dir, 'train'), maxLength, stride);
  const validation = new G.ShardDataset(G.shardFiles(dir, 'val'), maxLength, stride);
  return {
    train,
    validation,
    note: `${note}, ${train.tokens.toLocaleString('en-US')} training tokens`,
    close() {
      train.close();
      validation.close();
    },
  };
}
